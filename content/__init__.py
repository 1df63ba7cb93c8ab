"""The offer library and channel rendering: pure, no Flask, no database.

Modules, one concept each: `model` (offers, layouts, validation), `diagnostics` (errors
as values), `sanitize` (the one HTML/URL policy), `templates` (bounded sandboxed Jinja),
`formatting` (money, date, percent), `mjml` (layout compilation), `layouts` (checking and
building a layout on save), `plaintext`, `sms`, and `channels` (the six variants).
"""
