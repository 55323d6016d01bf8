"""The login flow: the transition table, the engine that runs one login, the second factors and the back office that keeps users."""
