"""The queues a worker listens on, in priority order (defined with the job names in app)."""

from app.queueing import WORKER_QUEUES, JobName, QueueName

__all__ = ["WORKER_QUEUES", "JobName", "QueueName"]
