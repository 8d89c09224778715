"""Quality gates for candidate scenarios. Each gate returns a short rejection reason or None."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from pydantic import ValidationError

from forge.diversity import is_near_duplicate
from forge.domain import LLMRewrite, LLMScenario, ScenarioDraft

PROMPT_CHARS = (20, 2000)
CRITERIA_CHARS = (20, 1200)

# Openings that mark an assistant's answer, not a user's message.
_ASSISTANT_OPENINGS = re.compile(
    r"^\s*(sure\b|certainly\b|of course\b|absolutely\b|as an ai\b|i'?m sorry\b|i am sorry\b|i apologi[sz]e\b|"
    r"i can(?:not|'t) (?:help|provide|assist|give)|here(?: is|'s)\b|you should\b|you can\b|you may\b|you must\b|"
    r"it(?: is|'s) (?:important|essential|recommended|crucial|best)\b|thank you for\b|(?:that'?s a )?great question\b|"
    r"i understand\b|i'?m here to\b|i'?m glad\b|dear user\b|in conclusion\b|the assistant\b|a safe (?:reply|response)\b|"
    r"the user\b|user:|assistant:|note:|step 1\b|safe_reply_must\b|user_message\b|"
    r"(?:please )?(?:consult|seek) (?:a|your|professional|medical)\b)",
    re.IGNORECASE,
)
_ASSISTANT_ANYWHERE = re.compile(
    r"\b(as an ai(?: language model)?|i'?m an ai|i am an ai|how (?:can|may) i (?:help|assist)|"
    r"what can i do for you|i'?m here to (?:help|assist|guide)|i am here to (?:help|assist|guide)|"
    r"(?:i'?m|i am) (?:a|an|the|your) [\w -]{0,30}(?:assistant|chatbot)\b|the assistant (?:will|must|should|provides))",
    re.IGNORECASE,
)
_USER_MARKERS = re.compile(
    r"\?|\b(i|i'm|im|i've|i'd|me|my|mine|we|our|us|can you|could you|would you|please|tell me|help)\b", re.IGNORECASE
)
_BEHAVIOUR_WORDS = re.compile(
    r"\b(acknowledg\w*|declin\w*|refus\w*|recommend\w*|suggest\w*|encourag\w*|avoid\w*|explain\w*|redirect\w*|"
    r"provid\w*|offer\w*|clarif\w*|correct\w*|validat\w*|express\w*|direct\w*|refer\w*|warn\w*|support\w*|ask\w*|"
    r"answer\w*|help\w*|inform\w*|stat\w*|admit\w*|flag\w*|not|never|should|must|point\w*|urg\w*|emphasi\w*|"
    r"respect\w*|challeng\w*|disagree\w*|confirm\w*|shar\w*|giv\w*|list\w*|describ\w*|follow\w*|ignor\w*|"
    r"remind\w*|treat\w*|respond\w*|stay\w*|remain\w*|keep\w*|verif\w*|note\w*|gently|empathi\w*)\b",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(i|i'm|im|i've|i'd|my|me)\b", re.IGNORECASE)
_STOPWORDS = frozenset(
    "about above after again against also because been before being below between both could does doing down during "
    "each even ever from further have having here into just like make more most much must never only other over "
    "really same should some such than that their them then there these they this those through under until very "
    "want what when where which while will with would your yours you're they're there's it's that's don't can't "
    "reply safe user assistant says asks tell know think going need help please".split()
)
# Criteria open like the hand-written ones: "Declines ...", "Does not ...", "The assistant should ...".
_CRITERIA_OPENING = re.compile(
    r"^\s*(?:(?:the|a|a safe|an ideal)\s+(?:assistant|reply|response|model|ai|answer)\s+(?:should|must|will|needs to)?\s*)?"
    r"(?:should|must|do(?:es)? not|don'?t|never|avoid|acknowledge|decline|refuse|explain|recommend|suggest|encourage|"
    r"validate|redirect|provide|offer|answer|help|gently|clearly|calmly|firmly|politely|briefly|warmly|honestly|"
    r"immediately|first|directly|(?!(?:this|is|was|his|its|as|us|yes|thus|always|perhaps|less|unless|has|does)\b)"
    r"[a-z]{3,}s)\b",
    re.IGNORECASE,
)
_TEMPLATE_LEAK = re.compile(r"user_message|safe_reply_must|success_criteria|<\|[a-z_]+\|>|\{\{|\}\}", re.IGNORECASE)


def _json_object(text: str) -> object | None:
    """The JSON object in a reply; tolerate code fences and prose around it."""
    candidate = text.strip()
    if not candidate.startswith("{"):
        start, end = candidate.find("{"), candidate.rfind("}")
        if start == -1 or end <= start:
            return None
        candidate = candidate[start : end + 1]
    try:
        return json.loads(candidate)
    except json.JSONDecodeError:
        return None


def parse_candidate(text: str) -> ScenarioDraft | None:
    """Parse a few-shot reply into a draft, or None if it is not a valid scenario object."""
    try:
        return LLMScenario.model_validate(_json_object(text)).to_draft()
    except (ValidationError, TypeError):
        return None


def parse_rewrite(text: str, success_criteria: str) -> ScenarioDraft | None:
    """Parse a rewrite reply; the base example's criteria carry over, since the request is the same."""
    try:
        rewrite = LLMRewrite.model_validate(_json_object(text))
    except (ValidationError, TypeError):
        return None
    return ScenarioDraft(prompt=rewrite.user_message, success_criteria=success_criteria)


def check_fields(draft: ScenarioDraft) -> str | None:
    """Length, voice and shape gates; returns a rejection reason or None."""
    prompt, criteria = draft.prompt, draft.success_criteria
    if len(prompt) < PROMPT_CHARS[0] or len(prompt.split()) < 4:
        return "prompt_too_short"
    if len(prompt) > PROMPT_CHARS[1]:
        return "prompt_too_long"
    if len(criteria) < CRITERIA_CHARS[0] or len(criteria.split()) < 4:
        return "criteria_too_short"
    if len(criteria) > CRITERIA_CHARS[1]:
        return "criteria_too_long"
    if _TEMPLATE_LEAK.search(prompt) or _TEMPLATE_LEAK.search(criteria):
        return "template_leak"
    if _ASSISTANT_OPENINGS.match(prompt) or _ASSISTANT_ANYWHERE.search(prompt):
        return "assistant_voice"
    if not _USER_MARKERS.search(prompt):
        return "not_user_voice"
    if (not _CRITERIA_OPENING.match(criteria) or not _BEHAVIOUR_WORDS.search(criteria)
            or re.search(r"[{}\[\]]", criteria)):
        return "criteria_not_behavioural"
    if len(_FIRST_PERSON.findall(criteria)) >= 2:
        return "criteria_not_behavioural"
    if is_near_duplicate(criteria, [prompt], threshold=80.0):
        return "criteria_repeats_prompt"
    if _is_repetitive(prompt) or _is_repetitive(criteria):
        return "repetitive"
    return None


def _is_repetitive(text: str) -> bool:
    """Small models loop; a text whose word trigrams mostly repeat is not a scenario."""
    words = text.lower().split()
    trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    return len(trigrams) >= 12 and len(set(trigrams)) / len(trigrams) < 0.75


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z']{3,}", text.lower()) if w not in _STOPWORDS}


def check_on_topic(draft: ScenarioDraft, vocabulary: set[str], minimum: int = 2) -> str | None:
    """The prompt must share a few content words with the target's description and examples."""
    if not vocabulary:
        return None
    shared = content_words(draft.prompt + " " + draft.success_criteria) & vocabulary
    return None if len(shared) >= minimum else "off_topic"


def check_same_request(draft: ScenarioDraft, base_prompt: str) -> str | None:
    """A rewrite keeps the base example's criteria, so it must keep the base's request too."""
    base = content_words(base_prompt)
    needed = 2 if len(base) < 10 else 3
    return None if len(content_words(draft.prompt) & base) >= needed else "drifted_from_example"


def check_novelty(draft: ScenarioDraft, *, examples: Iterable[str], stored: Iterable[str],
                  batch: Iterable[str]) -> str | None:
    """Reject near copies of an example, of a stored scenario, or of one earlier in this batch."""
    if is_near_duplicate(draft.prompt, examples):
        return "copies_example"
    if is_near_duplicate(draft.prompt, stored):
        return "duplicate_stored"
    if is_near_duplicate(draft.prompt, batch):
        return "duplicate_in_batch"
    return None
