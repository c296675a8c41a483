"""The S3 documents as types (docs/ARCHITECTURE.md, "The S3 contract"). The web app may add
fields at any time: every reader keeps unknown fields whole, so these describe the fields the
app itself reads and writes, not a closed schema."""
from __future__ import annotations

from typing import TypedDict


class MessageMetadata(TypedDict, total=False):
    course_number: str
    message_index: int
    model: str          # assistant messages: who wrote the reply
    emotion: str        # assistant messages: one of layout.EMOTIONS


class MessageDoc(TypedDict, total=False):
    message_id: str     # a UUID
    role: str           # "user" | "assistant"
    content: str
    timestamp: str      # ISO 8601, naive UTC from the web app ("...Z" or no zone)
    metadata: MessageMetadata


class ConversationDoc(TypedDict, total=False):
    """users/<sub>/conversations/<conversation_id>.json"""
    conversation_id: str
    user_id: str | None
    created_at: str | None
    messages: list[MessageDoc]
    metadata: dict
    last_updated: str | None


class IndexEntry(TypedDict, total=False):
    """One element of users/<sub>/conversations.json (a JSON list)."""
    conversation_id: str
    created_at: str
    last_updated: str
    message_count: int
    title: str


class ProfileDoc(TypedDict, total=False):
    """users/<sub>/info.json"""
    first_name: str
    last_name: str
    college_year: str
    major: str
    course_number: str
    unique_identifier: str
    email: str
    created_at: str
    updated_at: str
    cognito_user_id: str


class Tombstone(TypedDict, total=False):
    deleted_at: str
    message_ids: list[str]


class TombstonesDoc(TypedDict):
    """users/<sub>/archpal-desktop/tombstones.json (written by the desktop only)."""
    format: str         # "archpal-desktop-tombstones"
    version: int
    tombstones: dict[str, Tombstone]
