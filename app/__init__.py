"""The demo app: the course and builder pages built on the Coursewire library."""
