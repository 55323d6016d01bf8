"""Authenticator apps as they really are: Key URIs, the app profiles, the app, the phone it runs on, the QR code and scanning it from pixels."""
