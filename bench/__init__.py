"""`make bench`: this project against Agno's own DynamoDB adapter, on one DynamoDB Local, in one run.

See docs/bench.md for what is measured and how to read the results.
"""
