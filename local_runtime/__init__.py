"""The local runtime: the synthesized stack served on one machine with DynamoDB Local, no Docker."""
