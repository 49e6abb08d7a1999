"""Roles and authorisation (Art. 7-10): who may call which route.

* :mod:`chalicelib.access.roles` the roles of the regulation and the authenticated caller (pure);
* :mod:`chalicelib.access.tokens` bearer tokens with Cognito's claims: verification, and local minting;
* :mod:`chalicelib.access.gate` each route's declaration of its callers, the authorizer's decision,
  and the caller as the route sees it.
"""
