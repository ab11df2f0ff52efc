"""Adapters: the only code that talks to AWS (S3, DynamoDB, SNS, EventBridge, Step Functions,
EventBridge Scheduler, CloudWatch EMF), and the jobs the Lambda handlers run through them.

Each adapter takes its boto3 client in the constructor, so tests hand it a moto-backed one
and the handlers a real one; nothing here reads the environment except :mod:`settings`.
"""
