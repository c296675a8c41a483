"""Many-user buckets for the admin kit's tests and its benchmark, built with the web app's own
writers (tests.support.seed), so what the export reads is what the web app would have written."""
from __future__ import annotations

import csv
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from archpal_desktop.core import layout
from tests.support.seed import conversation

COURSES = ("ENGL 1102", "HIST 2111")
YEARS = ("First Year", "Second Year", "Faculty")


def sub_for(i: int) -> str:
    return str(uuid.UUID(int=0xA000_0000 + i, version=4))


def user_objects(i: int, n_conversations: int, n_messages: int) -> dict[str, bytes]:
    """User ``i``: profile (year and course by i), ``n_conversations`` files and the index.
    Conversation j starts on 2026-01-(5+j) and belongs to COURSES[(i + j) % 2]."""
    import random

    sub = sub_for(i)
    rng = random.Random(i)
    out: dict[str, bytes] = {}
    index = []
    for j in range(n_conversations):
        start = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc) + timedelta(days=j, minutes=i)
        doc, entry = conversation(sub, rng, n_messages, start, course=COURSES[(i + j) % 2])
        out[layout.conversation_key(sub, doc["conversation_id"])] = layout.dumps(doc)
        index.append(entry)
    out[layout.index_key(sub)] = layout.dumps(index)
    now = layout.format_ts(datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc))
    out[layout.info_key(sub)] = layout.dumps({
        "first_name": f"Stu{i}", "last_name": f"Dent{i}", "college_year": YEARS[i % len(YEARS)],
        "major": "English", "course_number": COURSES[i % 2],
        "unique_identifier": str(uuid.UUID(int=i + 1, version=4)), "email": f"s{i}@uga.edu",
        "created_at": now, "updated_at": now, "cognito_user_id": sub})
    return out


def seed_users(s3, bucket: str, n_users: int, n_conversations: int, n_messages: int, *,
               workers: int = 16) -> int:
    """Write the users' objects; returns how many objects were written."""
    def put_user(i: int) -> int:
        objs = user_objects(i, n_conversations, n_messages)
        for key, body in objs.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        return len(objs)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(put_user, range(n_users)))


def read_csv(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))
