"""Real-time detection: the scan's rules on CloudTrail events as EventBridge delivers them.

An EventBridge rule on ``AWS API Call via CloudTrail`` (and ``AWS Console Sign In via
CloudTrail``) invokes :func:`trailguard.realtime.handler.handler` in a Lambda function, directly
or through an SQS queue. The handler runs the same compiled rules and Sigma filters as
``trailguard scan`` and publishes each finding at or above a severity to an SNS topic.
"""
