"""The ground every other part stands on: time, policy, errors, the event log, secrets, password hashes and the one-time codes."""
