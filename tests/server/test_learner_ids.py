"""Learner ids as every server route accepts them (coursewire/server/ids.py): look-alike tricks
are refused with one sentence each, so two learners never look the same in a report (issue 19,
item 8); ordinary ids in any script are kept exactly."""

import pytest

from coursewire.server.ids import learner_id
from coursewire.server.wsgi import make_app

from .record_client import WsgiClient, settings

REFUSED = {
    "right-to-left override": ("ada\u202egro.elpmaxe@", "bidirectional controls"),
    "isolate": ("\u2066ada\u2069", "bidirectional controls"),
    "right-to-left mark": ("ada\u200f", "bidirectional controls"),
    "zero-width space": ("a\u200bda", "zero-width characters"),
    "zero-width joiner": ("ad\u200da", "zero-width characters"),
    "byte-order mark": ("\ufeffada", "zero-width characters"),
    "word joiner": ("ada\u2060lovelace", "zero-width characters"),
    "leading space": (" ada", "begin or end with spaces"),
    "trailing space": ("ada ", "begin or end with spaces"),
    "trailing tab": ("ada\t", "control characters"),
    "C1 control": ("ada\x85", "control characters"),
    "no-break space": ("ada\u00a0lovelace", "spaces other than the plain space"),
    "ideographic space": ("ada\u3000lovelace", "spaces other than the plain space"),
    "line separator": ("ada\u2028x", "spaces other than the plain space"),
    "soft hyphen": ("ada\u00adlovelace", "invisible, private-use or unassigned"),
    "private use": ("ada\ue000", "invisible, private-use or unassigned"),
    "unassigned": ("ada\U000e0fff", "invisible, private-use or unassigned"),
    "combining mark first": ("\u0301ada", "combining mark"),
    "decomposed accent": ("jose\u0301", "composed form (NFC)"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_look_alike_learner_id_is_refused_with_one_sentence(case):
    value, words = REFUSED[case]
    with pytest.raises(ValueError) as refused:
        learner_id(value)
    sentence = str(refused.value)
    assert sentence.startswith("learner must") and sentence.endswith(".") and words in sentence, sentence
    assert "\n" not in sentence and value not in sentence  # the sentence never echoes the trick


@pytest.mark.parametrize(
    "value",
    [
        "ada",
        "ada.lovelace@example.com",
        "Ada Lovelace",
        "12345",
        "José",
        "山田太郎",
        "Σωκράτης",
        "محمد",
        "ada+test@example.com",
        "o'brien",
        "x" * 256,
    ],
)
def test_ordinary_ids_in_any_script_are_kept_exactly(value):
    assert learner_id(value) == value


def test_a_report_token_is_never_issued_for_a_look_alike_learner():
    from coursewire.server.wsgi import Context

    context = Context(settings())
    with pytest.raises(ValueError):
        context.issue_report_token("101", "ada\u200b")
    assert context.issue_report_token("101", "ada")


def test_a_webhook_for_a_look_alike_learner_is_refused_400(store):
    from .record_client import delivery_body, delivery_headers

    client = WsgiClient(make_app(settings(), store=store))
    before = store.dump()
    body = delivery_body("course.completed", learner="ada\u202e")
    answer = client.request("POST", "/webhooks/coassemble", body, delivery_headers(body))
    assert answer.status == 400 and "bidirectional" in answer.json["error"]
    assert store.dump() == before
