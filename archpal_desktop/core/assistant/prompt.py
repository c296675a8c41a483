"""The system prompt and the history, in the shape every provider accepts.

The system prompt is, in this order: ArchPal's persona (our own words), the site's
``SYSTEM_PROMPT`` setting, the student's profile. The history is turned into strictly
alternating turns that start and end with the student, as Bedrock's Converse API requires,
whatever gaps the stored history has (a question with no reply, a reply with no question,
a failed partial reply, empty messages).
"""
from __future__ import annotations

from typing import Iterable

from archpal_desktop.core import layout
from archpal_desktop.core.assistant.events import ChatRequest, Turn

PERSONA = """\
You are ArchPal, a writing coach for university students.

How you help:
- You coach the student's own writing process: brainstorming, choosing and narrowing a topic, \
building a thesis, planning and outlining, finding and using evidence, drafting, revising, \
citing sources, and reflecting on what they learned.
- Ask focused questions that move their thinking forward, explain ideas and conventions with \
short examples that are not about their assignment, and suggest concrete next steps they can \
take themselves.
- Be warm, encouraging and honest. Keep answers short enough to read on one screen unless the \
student asks for more.

Academic integrity comes first:
- Never write the student's assignment prose for them: no essays, paragraphs, thesis statements, \
introductions or conclusions to hand in, and no substantial rewriting or editing of their drafts.
- When asked to do so, say kindly that the work and the voice must be theirs, and offer a way to \
help them do it themselves (questions, a checklist, feedback on what they wrote).
- You may point out issues in a passage they share and explain why, leaving the fixing to them.
"""

EMOTION_GUIDE = (
    "Along with each reply, choose the one emotion that best fits its tone for ArchPal's "
    "companion picture, from: " + ", ".join(layout.EMOTIONS) + ". Use \"default\" when none fits.")

SPRINT_GUIDE = """\
Writing sprints: this app can run a timed, focused writing session (a sprint) of 1 to 120 minutes \
with a short goal, shown as a countdown; when it ends the app asks the student how it went.
- Offer one when it would help: the student asks for help planning a writing session or \
managing their time, is ready to start drafting or revising a part, or feels stuck, behind or \
overwhelmed. Suggest a length that fits the task (often 15 to 30 minutes) and a goal they can \
reach in that time, in their own words where you can (e.g. "Draft your introduction").
- Always ask first, in your reply, e.g. "Would you like me to set a 25-minute sprint so you can \
draft your introduction?", and attach the proposal (writing_sprint). The app shows Start and \
Not now buttons: a sprint starts only when the student presses Start.
- Never start a sprint unasked and never say one has started. Offer at most one at a time, not \
in every reply, and not again soon after the student said no unless they ask.
- After a sprint, help the student reflect: what they got done, what got in the way, and the \
next small step."""

TOOL_NAME = "coach_reply"
TOOL_INSTRUCTION = (
    f"Always answer by calling the {TOOL_NAME} tool exactly once: put your whole reply to the "
    "student in response_text and the emotion in emotion. Write nothing outside the tool call. "
    "Only when your reply offers a writing sprint, also fill writing_sprint with its minutes and "
    "goal; leave writing_sprint out otherwise.")
INLINE_INSTRUCTION = (
    "Only when your reply offers a writing sprint, put the offer on its own line after the reply, "
    'exactly like {"writing_sprint": {"minutes": 25, "goal": "Draft your introduction"}}. '
    "End every reply with the emotion as JSON on its own last line, exactly like "
    '{"emotion": "smile"}, and nothing after it.')

TOOL_SPEC = {
    "toolSpec": {
        "name": TOOL_NAME,
        "description": "Send ArchPal's reply to the student together with the companion's emotion.",
        "inputSchema": {"json": {
            "type": "object",
            "properties": {
                "emotion": {"type": "string", "enum": list(layout.EMOTIONS),
                            "description": "The companion picture that fits the reply's tone."},
                "response_text": {"type": "string",
                                  "description": "The full reply to the student, in Markdown."},
                "writing_sprint": {
                    "type": "object",
                    "description": ("Only when response_text asks the student whether they want a "
                                    "writing sprint: the sprint offered. The app starts it only if "
                                    "the student accepts."),
                    "properties": {
                        "minutes": {"type": "integer", "minimum": 1, "maximum": 120,
                                    "description": "The sprint's length in minutes."},
                        "goal": {"type": "string", "maxLength": 120,
                                 "description": "A short goal, e.g. 'Draft your introduction'."},
                    },
                    "required": ["minutes", "goal"],
                },
            },
            "required": ["emotion", "response_text"],
        }},
    }
}


def profile_text(profile: dict | None) -> str:
    if not profile:
        return ""
    lines = []
    name = " ".join(p for p in (str(profile.get("first_name") or "").strip(),
                                str(profile.get("last_name") or "").strip()) if p)
    for label, value in (("Name", name), ("Year", profile.get("college_year")),
                         ("Major", profile.get("major")), ("Course", profile.get("course_number"))):
        value = str(value or "").strip()
        if value:
            lines.append(f"- {label}: {value}")
    if not lines:
        return ""
    return "About the student you are coaching:\n" + "\n".join(lines)


def system_prompt(site_prompt: str = "", profile: dict | None = None) -> str:
    """Persona, site prompt, profile, emotion guide, sprint guide. Each provider appends how to give the
    emotion (:data:`TOOL_INSTRUCTION` or :data:`INLINE_INSTRUCTION`)."""
    parts = [PERSONA.strip()]
    if site_prompt and site_prompt.strip():
        parts.append(site_prompt.strip())
    about = profile_text(profile)
    if about:
        parts.append(about)
    parts.append(EMOTION_GUIDE)
    parts.append(SPRINT_GUIDE)
    return "\n\n".join(parts)


def alternating_turns(history: Iterable[tuple[str, str]]) -> list[Turn]:
    """(role, text) pairs in stored order -> turns that alternate, user first and last.

    Consecutive messages of one role are joined (a question that never got a reply is kept,
    merged with the next question); empty messages are dropped; replies before the first
    question and after the last one are dropped (there is nothing to answer there).
    """
    merged: list[list[str]] = []
    roles: list[str] = []
    for role, text in history:
        if role not in layout.ROLES or not isinstance(text, str) or not text.strip():
            continue
        if roles and roles[-1] == role:
            merged[-1].append(text.strip())
        elif not roles and role == "assistant":
            continue
        else:
            roles.append(role)
            merged.append([text.strip()])
    while roles and roles[-1] == "assistant":
        roles.pop()
        merged.pop()
    return [Turn(role, "\n\n".join(parts)) for role, parts in zip(roles, merged)]


def build_request(history: Iterable[tuple[str, str]], *, site_prompt: str = "",
                  profile: dict | None = None, temperature: float | None = None,
                  max_tokens: int | None = None) -> ChatRequest:
    return ChatRequest(system_prompt(site_prompt, profile),
                       alternating_turns(history), temperature, max_tokens)
