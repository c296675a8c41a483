"""Frozen-build replacement for ``moto.iam.aws_managed_policies`` (a 4.7 MB catalogue of AWS's own
managed policies, about 0.6 MB of the bundle).

moto reads it only when ``MOTO_IAM_LOAD_MANAGED_POLICIES=true`` (``moto.settings``), which the
embedded local backend never sets: its roles carry inline policies only. The spec swaps this file in
for the original; the frozen ``--self-test`` (sign-in, sync, reply through the relay) runs on it.
"""
aws_managed_policies_data = "{}"
