"""What the session and the browser shell ask of a state class, whatever the product.

CourseState (course.py) and BuilderState (builder.py) both derive from State, so a caller never
probes a state with getattr/hasattr: what does not apply to a product is defined here, empty.
"""


class State:
    # What the mounted iframe is doing, not the learner's record: kept across a Reset, or when the
    # record of the learner a minted URL names replaces a blank one (carry_frame).
    FRAME_FIELDS = ()
    session = "waiting"  # the session pill: waiting, ready, error or expired
    session_error = None  # the error's message while the session is in error, or None
    rules = None  # the unlock rules in force (rules.py), or None: the product has none
    rule_errors = ()  # one sentence per rule that was ignored

    @property
    def full(self):
        """The bounded lists that reached their bound (and kept something out)."""
        return []

    def apply(self, event, now):
        """Fold one parsed message in; returns a change set (changes.py)."""
        raise NotImplementedError

    def clear_quiz(self):
        """Empty the quiz log; returns a change set ({} when there is none to empty)."""
        return {}

    def carry_frame(self, old):
        """Take over what the iframe is doing (FRAME_FIELDS) from `old`, the state this one replaces."""
        for name in self.FRAME_FIELDS:
            setattr(self, name, getattr(old, name))
