"""The demo app: the course, builder and learner-report pages built on the Coursewire library."""
