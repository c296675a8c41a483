"""The admin's kit: site configuration, bucket setup, IAM policies, doctor, usage, research export.

Everything here is plain synchronous Python over boto3 (no Qt), driven by ``cli/admin_cmds.py``.
"""
