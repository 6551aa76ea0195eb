"""Local stand-ins for the outside world, shared by the service tests and the end-to-end tests:
`stripe` (Stripe's API and webhooks), `oidc_provider` (an OpenID Connect provider, Google's part),
`authenticator` (a WebAuthn software authenticator). None reaches the network."""
