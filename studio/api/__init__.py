"""The downstream API's plumbing, kept out of the views: JSON errors and bodies, token
authentication, the in-process bundle caches, and the OpenAPI document.

The views in `studio/views/api.py` stay thin: read the request, call one service, answer.
"""
