"""The embedded local backend: moto's server (S3, Cognito) and our local Bedrock endpoint on
127.0.0.1, used by ``--demo`` and by the tests. The app talks to it through the same boto3 code
paths as production; only the ``AWS_ENDPOINT_URL_*`` variables point it here."""
