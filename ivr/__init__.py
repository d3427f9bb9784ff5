"""Twilio webhooks: signature check, the call's state machine, TwiML builders, simulator."""
