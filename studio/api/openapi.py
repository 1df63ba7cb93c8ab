"""The OpenAPI 3.1 document for the downstream API, built from the code's own constants.

Scopes, event types, variants, size limits and the interaction's fields come from the
modules that enforce them, so the document cannot drift from the behaviour. The JSON
served at `/api/v1/openapi.json` and the human page at `/api/docs` both read `document()`.
The interaction schema describes the built-in interaction schema; a studio whose schema
was edited checks interactions against the schema shipped in its current bundle.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Final

from bundle.runtime import CHANNEL_VARIANTS
from content.channels import VARIANTS
from content.model import LAYOUT_CHANNELS
from dsl.schema import FieldSpec, Schema, default_schema
from studio.api.body import MAX_BODY_BYTES
from studio.services.api_tokens import SCOPE_LABELS, SCOPES
from studio.services.decision_log import MAX_DECISIONS
from studio.services.events import EVENT_TYPES, MAX_EVENTS, MAX_PAYLOAD_BYTES, TEXT_LIMITS
from studio.services.interaction_ingest import MAX_INTERACTIONS
from studio.services.messages import MAX_RESPONSE_CHARS

VERSION: Final = "1.0.0"
JSON: Final = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}


_ERRORS: Final = {
    "400": "The body is malformed, has an unknown field or a wrong value; `field` says which.",
    "401": "No token, or the token is not valid or was revoked.",
    "403": "The token lacks the scope this operation needs.",
    "404": "There is no such bundle (or nothing has been published yet).",
    "405": "The operation does not accept this method.",
    "413": "The body is larger than 1 MB (or has more than 500 events).",
    "415": "The body is not JSON.",
    "431": "A request header is longer than 4096 bytes; `field` names it.",
    "503": "The stored bundle failed verification or cannot be loaded; it is not served.",
}


def _responses(ok: dict[str, Any], *statuses: str) -> dict[str, Any]:
    out = {**ok}
    for status in (*statuses, "431"):
        out[status] = _error(_ERRORS[status])
    return out


def _field_schema(spec: FieldSpec) -> dict[str, Any]:
    kind = spec.type
    if kind == "enum":
        out: dict[str, Any] = {"type": "string", "enum": list(spec.values)}
    elif kind == "string":
        out = {"type": "string", "maxLength": 2000}
    elif kind == "number":
        out = {"type": "number"}
    elif kind == "boolean":
        out = {"type": "boolean"}
    elif kind == "list":
        out = {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 50}
    elif kind == "datetime":
        out = {"type": "string", "format": "date-time", "examples": ["2026-03-02T10:15:00Z"]}
    elif kind == "history":
        out = {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "required": ["offer", "at"],
                "additionalProperties": False,
                "properties": {
                    "offer": {"type": "string", "maxLength": 64},
                    "at": {"type": "string", "format": "date-time"},
                },
            },
        }
    else:
        out = {}
    out = {**out, "type": [out["type"], "null"]} if "type" in out else out
    if spec.doc:
        out["description"] = spec.doc
    return out


def interaction_schema(schema: Schema) -> dict[str, Any]:
    """A JSON Schema for interactions that fit `schema` (nested objects per dotted path)."""
    root: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
    for spec in schema.fields:
        node = root
        for segment in spec.segments[:-1]:
            node = node["properties"].setdefault(
                segment, {"type": "object", "properties": {}, "additionalProperties": False}
            )
        node["properties"][spec.segments[-1]] = _field_schema(spec)
    for free in schema.free_roots:
        root["properties"][free] = {
            "type": "object",
            "description": "Extra data for templates and rules, free-form.",
        }
    root["description"] = (
        "One customer-service contact. Missing fields read as null. "
        "Fields are checked against the schema in the bundle."
    )
    return root


def _batch_report(*ids: str, description: str = "", warnings: str = "") -> dict[str, Any]:
    """A per-item report: totals, then one result per item sent, named by `ids`."""
    error = {"$ref": "#/components/schemas/Error/properties/error"}
    item: dict[str, Any] = {
        "index": {"type": "integer"},
        **{name: {"type": ["string", "null"]} for name in ids},
        "status": {"enum": ["stored", "duplicate", "rejected"]},
        "error": error,
    }
    if warnings:
        item["warnings"] = {"type": "array", "description": warnings, "items": error}
    results: dict[str, Any] = {"type": "array"}
    if description:
        results["description"] = description
    results["items"] = {"type": "object", "required": ["index", *ids, "status"], "properties": item}
    return {
        "type": "object",
        "required": ["stored", "duplicates", "rejected", "results"],
        "properties": {
            "stored": {"type": "integer"},
            "duplicates": {"type": "integer"},
            "rejected": {"type": "integer"},
            "results": results,
        },
    }


def _components() -> dict[str, Any]:
    variant_channels = {"type": "string", "enum": list(VARIANTS)}
    return {
        "securitySchemes": {
            "token": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API token issued by an admin in the studio (Admin > API "
                "tokens). Scopes: " + "; ".join(f"`{s}`: {SCOPE_LABELS[s]}" for s in SCOPES) + ".",
            },
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "additionalProperties": False,
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message", "field"],
                        "additionalProperties": False,
                        "properties": {
                            "code": {"type": "string", "description": "Stable, machine-readable."},
                            "message": {"type": "string", "description": "What to fix, in words."},
                            "field": {
                                "type": ["string", "null"],
                                "description": "Dotted path of the field at fault.",
                            },
                        },
                    }
                },
            },
            "Bundle": {
                "type": "object",
                "required": ["format", "version"],
                "description": "The signed bundle, byte for byte as signed (canonical JSON).",
                "properties": {
                    "format": {"const": "pos-studio-bundle/1"},
                    "version": {"type": "integer", "minimum": 1},
                    "published_at": {"type": "string"},
                    "schema": {"type": "object"},
                    "lexicon": {"type": "object"},
                    "offers": {"type": "array", "items": {"type": "object"}},
                    "layouts": {"type": "array", "items": {"type": "object"}},
                    "rulesets": {"type": "array", "items": {"type": "object"}},
                    "revisions": {"type": "object"},
                },
            },
            "Signature": {
                "type": "object",
                "additionalProperties": False,
                "required": ["version", "digest", "key_id", "algorithm", "signature"],
                "properties": {
                    "version": {"type": "integer"},
                    "digest": {
                        "type": "string",
                        "description": "sha256 (hex) of the bundle bytes.",
                    },
                    "key_id": {"type": "string"},
                    "algorithm": {"const": "Ed25519"},
                    "signature": {
                        "type": "string",
                        "description": "base64 Ed25519 signature over the exact bundle bytes.",
                    },
                },
            },
            "PublicKey": {
                "type": "object",
                "required": ["key_id", "algorithm", "public_key"],
                "properties": {
                    "key_id": {"type": "string"},
                    "algorithm": {"const": "Ed25519"},
                    "public_key": {"type": "string", "description": "Raw 32-byte key, base64."},
                },
            },
            "KeyList": {
                "type": "object",
                "required": ["keys"],
                "additionalProperties": False,
                "properties": {"keys": {"type": "array", "items": _ref("PublicKey")}},
            },
            "Interaction": interaction_schema(default_schema()),
            "DecideRequest": {
                "type": "object",
                "required": ["interaction"],
                "additionalProperties": False,
                "properties": {
                    "interaction": _ref("Interaction"),
                    "channels": {
                        "type": "array",
                        "items": variant_channels,
                        "maxItems": 6,
                        "description": "Variants to render. Default: the ones for "
                        "the interaction's channel ("
                        + ", ".join(f"{c}: {'+'.join(v)}" for c, v in CHANNEL_VARIANTS.items())
                        + ").",
                    },
                    "explain": {
                        "type": "boolean",
                        "default": False,
                        "description": "Add each rule's trace.",
                    },
                    "version": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "Decide on this bundle version instead of the current one.",
                    },
                    "open_message": _ref("OpenMessage"),
                    "layouts": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            c: {"type": "string", "maxLength": 64} for c in LAYOUT_CHANNELS
                        },
                        "description": "A layout key per layout channel; default: "
                        "the bundle's first layout of that channel.",
                    },
                },
            },
            "ServiceResponse": {
                "type": "object",
                "additionalProperties": False,
                "description": "What the customer came to read: text, HTML (sanitized with "
                "the studio's policy) or both; at least one.",
                "properties": {
                    "text": {"type": "string", "maxLength": MAX_RESPONSE_CHARS},
                    "html": {"type": "string", "maxLength": MAX_RESPONSE_CHARS},
                },
            },
            "MessageCustomer": {
                "type": "object",
                "required": ["id"],
                "description": "The customer; `id` counts answers and survey frequency, the "
                "rest is available to the layout as `customer`.",
                "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 100}},
            },
            "OpenMessage": {
                "type": "object",
                "required": ["response"],
                "additionalProperties": False,
                "description": "Open a message with this decision; needs `messages:write`. "
                "Customer and channel default to the interaction's. Every "
                "variant then links to the customer's page.",
                "properties": {
                    "customer": _ref("MessageCustomer"),
                    "channel": {"type": "string", "minLength": 1, "maxLength": 32},
                    "response": _ref("ServiceResponse"),
                },
            },
            "MessageRequest": {
                "type": "object",
                "required": ["customer", "channel", "response"],
                "additionalProperties": False,
                "properties": {
                    "customer": _ref("MessageCustomer"),
                    "channel": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 32,
                        "description": "Where the customer was answered.",
                    },
                    "response": _ref("ServiceResponse"),
                    "decision": {
                        "type": "object",
                        "description": "The answer /decide gave "
                        "(its `decision_id`, `bundle.version`, `offers[].offer`, `rule`, "
                        "`ruleset` and `surveys[].survey`, `rule`, `ruleset` are "
                        "read). The events the customer's page records name its "
                        "`decision_id`.",
                    },
                    "inquiry": {
                        "type": "object",
                        "description": "For the layout and the analytics' inquiry category.",
                    },
                    "data": {"type": "object", "description": "Extra data for the layout."},
                    "layout": {
                        "type": "string",
                        "maxLength": 64,
                        "description": "A message-center layout key; default: the bundle's.",
                    },
                },
            },
            "Message": {
                "type": "object",
                "required": ["id", "url", "expires_at", "survey"],
                "properties": {
                    "id": {"type": "integer"},
                    "url": {
                        "type": "string",
                        "description": "The customer's link: "
                        "`<STUDIO_PUBLIC_BASE_URL>/m/<token>`, a 22-character token "
                        "shown only here.",
                    },
                    "expires_at": {"type": "string", "format": "date-time"},
                    "survey": {
                        "type": "boolean",
                        "description": "Whether this message asks "
                        "the NPS question (the survey frequency allows it).",
                    },
                    "notification": {
                        "type": "object",
                        "description": "The short "
                        "notification email rendered from the bundle's "
                        "notification layout, for the downstream sender (absent "
                        "when the bundle has none).",
                        "required": ["subject", "html", "text", "layout"],
                        "properties": {
                            "subject": {"type": "string"},
                            "html": {"type": "string"},
                            "text": {"type": "string"},
                            "layout": {"type": "string"},
                        },
                    },
                    "surveys": {
                        "type": "array",
                        "description": "The narrow-cast surveys "
                        "this message asks, each with its own link.",
                        "items": {
                            "type": "object",
                            "required": ["survey", "url"],
                            "properties": {"survey": {"type": "string"}, "url": {"type": "string"}},
                        },
                    },
                },
            },
            "Variant": {
                "type": "object",
                "required": ["channel", "ok", "diagnostics"],
                "properties": {
                    "channel": variant_channels,
                    "ok": {"type": "boolean"},
                    "html": {"type": "string"},
                    "text": {"type": "string"},
                    "buttons": {"type": "array", "items": {"type": "object"}},
                    "sms": {"type": "object"},
                    "diagnostics": {"type": "array", "items": {"type": "object"}},
                },
            },
            "Decision": {
                "type": "object",
                "required": ["bundle", "channels", "offers", "follow_ups", "rulesets"],
                "properties": {
                    "bundle": {
                        "type": "object",
                        "required": ["version", "digest"],
                        "properties": {
                            "version": {"type": "integer"},
                            "digest": {"type": "string"},
                        },
                    },
                    "decision_id": {
                        "type": "string",
                        "description": "The decision's id in the decision log; send it with "
                        "the events about this decision.",
                    },
                    "channels": {"type": "array", "items": variant_channels},
                    "offers": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["ruleset", "variants"],
                            "properties": {
                                "ruleset": {"type": "string"},
                                "variants": {
                                    "type": "object",
                                    "additionalProperties": _ref("Variant"),
                                },
                            },
                        },
                    },
                    "follow_ups": {"type": "array", "items": {"type": "object"}},
                    "gating": {
                        "type": "object",
                        "description": "Resolution-gated offers (docs/rules.md): `scheduled` "
                        "lists the gated offers this decision left waiting for a reply on the "
                        "interaction's thread, `settled` those of earlier decisions it released, "
                        "reopened or expired. A released offer is in `offers` with `gated`.",
                        "properties": {
                            "store": {"type": ["string", "null"]},
                            "ok": {"type": "boolean"},
                            "error": {"type": "string"},
                            "scheduled": {"type": "array", "items": {"type": "object"}},
                            "settled": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                    "at": {
                        "type": "object",
                        "required": ["value", "source"],
                        "description": "The moment decided for: the interaction's `at`, "
                        "or the server's time when it had none (offer "
                        "validity windows and limits are judged at it).",
                        "properties": {
                            "value": {"type": "string", "format": "date-time"},
                            "source": {"type": "string", "enum": ["interaction", "server"]},
                        },
                    },
                    "surveys": {
                        "type": "array",
                        "description": "Narrow-cast surveys the "
                        "rules ask (`ask survey KEY`), each once.",
                        "items": {
                            "type": "object",
                            "required": ["survey", "rule", "ruleset"],
                            "properties": {
                                "survey": {"type": "string"},
                                "rule": {"type": "string"},
                                "ruleset": {"type": "string"},
                            },
                        },
                    },
                    "rulesets": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["key", "name"],
                            "description": "Each ruleset's own decision: offers, follow-ups, "
                            "guards that fired, holdouts, and the trace when asked.",
                        },
                    },
                    "interaction": {
                        "type": "object",
                        "required": ["valid"],
                        "description": "What preparing the interaction found: shorthands "
                        "expanded (`tone` given as a label), the tone inferred "
                        "from the bundle's distress lexicon, and problems when "
                        "a local caller decided anyway (`allow_invalid`).",
                        "properties": {
                            "valid": {"type": "boolean"},
                            "expanded": {"type": "array", "items": {"type": "string"}},
                            "inferred_tone": {"type": "object"},
                            "problems": {"type": "array", "items": {"type": "object"}},
                            "allowed_invalid": {"type": "boolean"},
                        },
                    },
                },
            },
            "DecisionWithMessage": {
                "allOf": [
                    _ref("Decision"),
                    {
                        "type": "object",
                        "required": ["message"],
                        "properties": {"message": _ref("Message")},
                    },
                ],
            },
            "Event": {
                "type": "object",
                "required": ["event_id", "type"],
                "additionalProperties": False,
                "properties": {
                    "event_id": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": TEXT_LIMITS["event_id"],
                        "description": "Unique per event: a retried event is stored once.",
                    },
                    "type": {"type": "string", "enum": list(EVENT_TYPES)},
                    "offer_key": {
                        "type": "string",
                        "maxLength": TEXT_LIMITS["offer_key"],
                        "description": "Required except for nps.",
                    },
                    "rule": {"type": "string", "maxLength": TEXT_LIMITS["rule"]},
                    "channel": {"type": "string", "maxLength": TEXT_LIMITS["channel"]},
                    "category": {"type": "string", "maxLength": TEXT_LIMITS["category"]},
                    "bundle_version": {"type": ["integer", "null"], "minimum": 1},
                    "customer_id": {"type": "string", "maxLength": TEXT_LIMITS["customer_id"]},
                    "score": {
                        "type": ["integer", "null"],
                        "minimum": 0,
                        "maximum": 10,
                        "description": "nps only: the answer, 0 to 10.",
                    },
                    "at": {
                        "type": "string",
                        "format": "date-time",
                        "description": "When it happened; default: when received.",
                    },
                    "payload": {
                        "type": "object",
                        "description": f"Anything else, up to {MAX_PAYLOAD_BYTES // 1024} KB.",
                    },
                    "decision_id": {
                        "type": "string",
                        "maxLength": TEXT_LIMITS["decision_id"],
                        "description": "The decision this event is about (from "
                        "/decide or the client's local decide).",
                    },
                    "value": {
                        "type": "string",
                        "pattern": r"^(0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?$",
                        "description": "accepted only: the amount, as text with a dot "
                        'and at most two decimals ("12.50").',
                    },
                },
            },
            "DecisionRecord": {
                "type": "object",
                "required": ["decision_id", "bundle_version"],
                "additionalProperties": False,
                "properties": {
                    "decision_id": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,64}$"},
                    "decided_at": {"type": "string", "format": "date-time"},
                    "bundle_version": {"type": "integer", "minimum": 1},
                    "bundle_digest": {"type": "string", "maxLength": 100},
                    "channel": {"type": "string", "maxLength": 32},
                    "category": {"type": "string", "maxLength": 32},
                    "tone": {"type": "string", "maxLength": 32},
                    "customer_id": {
                        "type": "string",
                        "maxLength": 100,
                        "description": "Stored as a hash unless an admin allows raw ids.",
                    },
                    "rules": {"type": "array", "items": {"type": "object"}},
                    "offers": {"type": "array", "items": {"type": "object"}},
                    "guards": {"type": "array", "items": {"type": "object"}},
                    "holdouts": {"type": "array", "items": {"type": "object"}},
                    "withheld": {
                        "type": "array",
                        "items": {"type": "object"},
                        "description": "What the contact policy withheld: offer, ruleset, "
                        "rule, line, text, reason.",
                    },
                    "trace": {"type": "object"},
                },
            },
            "DecisionBatch": {
                "type": "object",
                "required": ["decisions"],
                "additionalProperties": False,
                "properties": {
                    "decisions": {
                        "type": "array",
                        "items": _ref("DecisionRecord"),
                        "maxItems": MAX_DECISIONS,
                    }
                },
            },
            "DecisionReport": _batch_report("decision_id"),
            "InteractionBatch": {
                "type": "object",
                "required": ["interactions"],
                "additionalProperties": False,
                "properties": {
                    "interactions": {
                        "type": "array",
                        "maxItems": MAX_INTERACTIONS,
                        "description": "Interactions shaped like a line of a history import "
                        "(`id`, `at`, `inquiry`, `tone`, `customer`, `data`), checked "
                        "against the current interaction schema.",
                        "items": {"type": "object"},
                    },
                    "redact": {
                        "type": "boolean",
                        "default": False,
                        "description": "Replace emails, card numbers and phone numbers in "
                        "every text value before storing, as the import's Redact option.",
                    },
                },
            },
            "InteractionReport": _batch_report("interaction_id"),
            "ContactReport": _batch_report(
                "decision_id",
                "offer_key",
                description="One entry per contact sent, in order: a client drops "
                "the stored and duplicate ones and keeps the rejected ones aside.",
            ),
            "EventBatch": {
                "type": "object",
                "required": ["events"],
                "additionalProperties": False,
                "properties": {
                    "events": {"type": "array", "items": _ref("Event"), "maxItems": MAX_EVENTS}
                },
            },
            "EventReport": _batch_report(
                "event_id",
                warnings="A stored event naming a decision not logged (yet) or an unknown offer.",
            ),
        },
    }


def _bundle_headers() -> dict[str, Any]:
    text = {"schema": {"type": "string"}}
    return {
        "ETag": {**text, "description": "The bundle's digest (sha256 hex), a strong ETag."},
        "Cache-Control": text,
        "X-Bundle-Signature": {
            **text,
            "description": "`keyid=<key id>,sig=<base64>`: "
            "the detached Ed25519 signature of the body bytes.",
        },
        "X-Bundle-Version": {"schema": {"type": "integer"}},
    }


def _bundle_operation(summary: str, description: str, *, path_version: bool) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 200},
            "description": "The ETag you hold; answered 304 when it is still current.",
        }
    ]
    if path_version:
        parameters.insert(0, _version_parameter())
    return {
        "tags": ["Bundles"],
        "summary": summary,
        "description": description,
        "operationId": "getBundleVersion" if path_version else "getCurrentBundle",
        "security": [{"token": ["bundles:read"]}],
        "parameters": parameters,
        "responses": _responses(
            {
                "200": {
                    "description": "The bundle.",
                    "headers": _bundle_headers(),
                    "content": {JSON: {"schema": _ref("Bundle")}},
                },
                "304": {
                    "description": "Not modified: the ETag you sent is still current.",
                    "headers": _bundle_headers(),
                },
            },
            "401",
            "403",
            "404",
            "503",
        ),
    }


def _version_parameter() -> dict[str, Any]:
    return {
        "name": "version",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    }


def _signature_operation(*, path_version: bool) -> dict[str, Any]:
    return {
        "tags": ["Bundles"],
        "summary": "The bundle's detached signature",
        "description": "The same signature as the `X-Bundle-Signature` header, as JSON, for "
        "systems that store it next to the bundle file.",
        "operationId": "getBundleVersionSignature" if path_version else "getCurrentSignature",
        "security": [{"token": ["bundles:read"]}],
        "parameters": [_version_parameter()] if path_version else [],
        "responses": _responses(
            {
                "200": {
                    "description": "The signature.",
                    "content": {JSON: {"schema": _ref("Signature")}},
                }
            },
            "401",
            "403",
            "404",
            "503",
        ),
    }


@functools.cache
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Point-of-service studio API",
            "version": VERSION,
            "description": (
                "Downstream systems fetch the signed rule bundle and decide locally, or ask "
                "the studio to decide; they send back what happened. Every call but the "
                "key list and this document needs an API token with the right scope. "
                'Errors are always JSON: `{"error": {"code", "message", "field"}}`. '
                f"Bodies are capped at {MAX_BODY_BYTES // 1024} KB."
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/"}],
        "tags": [
            {
                "name": "Bundles",
                "description": "Signed, immutable snapshots of everything published.",
            },
            {"name": "Decisions", "description": "Ask the studio to decide on a bundle."},
            {"name": "Events", "description": "Feedback from the systems that showed offers."},
            {
                "name": "History",
                "description": "Interactions from downstream systems, added to the "
                "interaction history (opt-in per token).",
            },
            {
                "name": "Messages",
                "description": "A service response opened for the customer "
                "at their own link, `/m/<token>`.",
            },
            {"name": "Keys", "description": "Public keys that verify bundle signatures."},
        ],
        "paths": {
            "/api/v1/bundles/current": {
                "get": _bundle_operation(
                    "The current bundle",
                    "The bundle downstream systems should use now. Revalidate with "
                    "`If-None-Match`: a 304 is answered from memory. A publish is visible "
                    "within about a second on every worker.",
                    path_version=False,
                )
            },
            "/api/v1/bundles/current/signature": {"get": _signature_operation(path_version=False)},
            "/api/v1/bundles/{version}": {
                "get": _bundle_operation(
                    "One bundle version",
                    "Any published version, for pinning or auditing. Versions never change, so "
                    "the answer may be cached for good.",
                    path_version=True,
                )
            },
            "/api/v1/bundles/{version}/signature": {"get": _signature_operation(path_version=True)},
            "/api/v1/keys": {
                "get": {
                    "tags": ["Keys"],
                    "summary": "Public keys",
                    "description": "Every key that may have signed a bundle, newest last. "
                    "Configure clients with these out of band; do not trust a key "
                    "fetched alongside the bundle it verifies.",
                    "operationId": "listKeys",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The keys.",
                            "content": {JSON: {"schema": _ref("KeyList")}},
                        }
                    },
                }
            },
            "/api/v1/decide": {
                "post": {
                    "tags": ["Decisions"],
                    "summary": "Decide for one interaction",
                    "description": "Runs every ruleset of the current (or named) bundle against "
                    "the interaction and renders each offer for the interaction's "
                    "channel, or for the variants asked for. `explain` adds the "
                    "trace. The Python client's local decision runs the same code.",
                    "operationId": "decide",
                    "security": [{"token": ["decide"]}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            JSON: {
                                "schema": _ref("DecideRequest"),
                                "example": {
                                    "interaction": {
                                        "inquiry": {
                                            "category": "transactional",
                                            "intent": "order_checkbook",
                                            "channel": "email",
                                            "resolution": "confirmed",
                                        },
                                        "tone": {"label": "neutral", "score": 0.1},
                                        "customer": {
                                            "id": "c-1001",
                                            "authenticated": True,
                                            "tier": "gold",
                                            "products": ["checking"],
                                        },
                                    }
                                },
                            }
                        },
                    },
                    "responses": _responses(
                        {
                            "200": {
                                "description": "The decision.",
                                "content": {JSON: {"schema": _ref("Decision")}},
                            },
                            "201": {
                                "description": "The decision, and the message opened with it "
                                "(`open_message` was sent).",
                                "content": {JSON: {"schema": _ref("DecisionWithMessage")}},
                            },
                        },
                        "400",
                        "401",
                        "403",
                        "404",
                        "413",
                        "415",
                        "503",
                    ),
                }
            },
            "/api/v1/messages": {
                "post": {
                    "tags": ["Messages"],
                    "summary": "Open a message for a customer",
                    "description": "Stores a service response (text and/or HTML, sanitized) and "
                    "the decision it came with, and answers with the customer's "
                    "link. The offers are rendered in the message-center layout of "
                    "the decision's bundle. The link works for "
                    "`STUDIO_MESSAGE_DAYS` days (default 30) unless staff withdraw "
                    "the message.",
                    "operationId": "openMessage",
                    "security": [{"token": ["messages:write"]}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            JSON: {
                                "schema": _ref("MessageRequest"),
                                "example": {
                                    "customer": {"id": "c-1001", "first_name": "Ann"},
                                    "channel": "sms",
                                    "response": {"text": "Your new checks are on their way."},
                                    "decision": {
                                        "decision_id": "5f0c2a9e1b7d4c3a8e6f0b2d4a6c8e01",
                                        "bundle": {"version": 3},
                                        "offers": [
                                            {
                                                "offer": "overdraft_protection",
                                                "rule": "Overdraft protection with a checkbook order",
                                                "ruleset": "retail_banking",
                                            }
                                        ],
                                    },
                                },
                            }
                        },
                    },
                    "responses": _responses(
                        {
                            "201": {
                                "description": "The message; `Location` is the customer's link.",
                                "headers": {"Location": {"schema": {"type": "string"}}},
                                "content": {
                                    JSON: {
                                        "schema": {
                                            "type": "object",
                                            "required": ["message"],
                                            "properties": {"message": _ref("Message")},
                                        }
                                    }
                                },
                            }
                        },
                        "400",
                        "401",
                        "403",
                        "404",
                        "413",
                        "415",
                        "503",
                    ),
                }
            },
            "/api/v1/events": {
                "post": {
                    "tags": ["Events"],
                    "summary": "Send feedback events",
                    "description": f"Up to {MAX_EVENTS} events per call. Each is stored once per "
                    "`event_id` (a retried batch is safe) and checked on its own: "
                    "a bad event is reported in `results` without refusing the "
                    "good ones.",
                    "operationId": "sendEvents",
                    "security": [{"token": ["events:write"]}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            JSON: {
                                "schema": _ref("EventBatch"),
                                "example": {
                                    "events": [
                                        {
                                            "event_id": "0b6f3c1e-shown",
                                            "type": "shown",
                                            "offer_key": "overdraft_protection",
                                            "channel": "email",
                                            "category": "transactional",
                                            "bundle_version": 3,
                                            "customer_id": "c-1001",
                                            "at": "2026-03-02T10:15:00Z",
                                        },
                                        {"event_id": "0b6f3c1e-nps", "type": "nps", "score": 9},
                                    ]
                                },
                            }
                        },
                    },
                    "responses": _responses(
                        {
                            "200": {
                                "description": "What happened to each event.",
                                "content": {JSON: {"schema": _ref("EventReport")}},
                            }
                        },
                        "400",
                        "401",
                        "403",
                        "413",
                        "415",
                    ),
                }
            },
            "/api/v1/interactions": {
                "post": {
                    "tags": ["History"],
                    "summary": "Send interactions to the history",
                    "description": f"Up to {MAX_INTERACTIONS} interactions per call, for tokens "
                    "given the `interactions:write` scope. Each is checked like a row of a "
                    "history import, stored once per `id` (a retried batch is safe) and "
                    "reported on its own in `results`: a bad interaction does not refuse "
                    "the good ones.",
                    "operationId": "sendInteractions",
                    "security": [{"token": ["interactions:write"]}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            JSON: {
                                "schema": _ref("InteractionBatch"),
                                "example": {
                                    "interactions": [
                                        {
                                            "id": "crm-2026-000123",
                                            "at": "2026-11-20T10:15:00Z",
                                            "inquiry": {
                                                "category": "transactional",
                                                "intent": "order_checkbook",
                                                "channel": "chat",
                                                "resolution": "confirmed",
                                                "text": "I need new checks please",
                                            },
                                            "tone": {"label": "neutral", "score": 0.1},
                                            "customer": {"id": "c-1001", "tier": "gold"},
                                        }
                                    ],
                                    "redact": True,
                                },
                            }
                        },
                    },
                    "responses": _responses(
                        {
                            "200": {
                                "description": "What happened to each interaction.",
                                "content": {JSON: {"schema": _ref("InteractionReport")}},
                            }
                        },
                        "400",
                        "401",
                        "403",
                        "413",
                        "415",
                    ),
                }
            },
            "/api/v1/contacts": {
                "post": {
                    "tags": ["Events"],
                    "summary": "Report offers decided locally",
                    "description": "Up to 1000 contacts per call: offers a client decided locally, "
                    "added to the studio's contact history so caps count them. Each "
                    "is stored once per `decision_id` and `offer_key` (a retried "
                    "batch is safe); a contact dated in the future is stored at the "
                    "moment it arrives.",
                    "operationId": "reportContacts",
                    "security": [{"token": ["events:write"]}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            JSON: {
                                "schema": {
                                    "type": "object",
                                    "required": ["contacts"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "contacts": {
                                            "type": "array",
                                            "maxItems": 1000,
                                            "items": {
                                                "type": "object",
                                                "additionalProperties": False,
                                                "required": [
                                                    "decision_id",
                                                    "customer_id",
                                                    "offer_key",
                                                    "at",
                                                ],
                                                "properties": {
                                                    "decision_id": {
                                                        "type": "string",
                                                        "minLength": 1,
                                                        "maxLength": 100,
                                                    },
                                                    "customer_id": {
                                                        "type": "string",
                                                        "minLength": 1,
                                                        "maxLength": 100,
                                                    },
                                                    "offer_key": {
                                                        "type": "string",
                                                        "minLength": 1,
                                                        "maxLength": 64,
                                                    },
                                                    "channel": {
                                                        "type": ["string", "null"],
                                                        "maxLength": 32,
                                                    },
                                                    "at": {"type": "string", "format": "date-time"},
                                                    "bundle_version": {"type": ["integer", "null"]},
                                                },
                                            },
                                        }
                                    },
                                },
                                "example": {
                                    "contacts": [
                                        {
                                            "decision_id": "5f0c2a",
                                            "customer_id": "c-1001",
                                            "offer_key": "overdraft_protection",
                                            "channel": "email",
                                            "at": "2026-03-02T10:15:00Z",
                                        }
                                    ]
                                },
                            }
                        },
                    },
                    "responses": _responses(
                        {
                            "200": {
                                "description": "What happened to each contact.",
                                "content": {JSON: {"schema": _ref("ContactReport")}},
                            }
                        },
                        "400",
                        "401",
                        "403",
                        "413",
                        "415",
                    ),
                }
            },
            "/api/v1/decisions": {
                "post": {
                    "tags": ["Events"],
                    "summary": "Report decisions made locally",
                    "description": f"Up to {MAX_DECISIONS} decision records per call, as the "
                    "Python client builds them (its outbox sends them). Each is stored "
                    "once per `decision_id` and checked on its own.",
                    "operationId": "reportDecisions",
                    "security": [{"token": ["events:write"]}],
                    "requestBody": {
                        "required": True,
                        "content": {JSON: {"schema": _ref("DecisionBatch")}},
                    },
                    "responses": _responses(
                        {
                            "200": {
                                "description": "What happened to each record.",
                                "content": {JSON: {"schema": _ref("DecisionReport")}},
                            }
                        },
                        "400",
                        "401",
                        "403",
                        "413",
                        "415",
                    ),
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "tags": ["Keys"],
                    "summary": "This document",
                    "operationId": "openapi",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1.",
                            "content": {JSON: {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": _components(),
    }


def document() -> dict[str, Any]:
    """A fresh copy of the document (callers may not mutate the shared one)."""
    return copy.deepcopy(_document())


# --- the human page, read from the same document ---------------------------------------


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return (
            schema["$ref"].rsplit("/", 1)[-1]
            if "/properties/" not in schema["$ref"]
            else "Error.error"
        )
    if "const" in schema:
        return f"= {schema['const']!r}"
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    words = []
    for item in kinds:
        if item == "array":
            words.append(f"list of {_type_of(schema.get('items', {}))}")
        elif item == "object" and isinstance(schema.get("additionalProperties"), dict):
            words.append(f"map of {_type_of(schema['additionalProperties'])}")
        else:
            words.append(str(item))
    return " or ".join(words)


def _limits(schema: dict[str, Any]) -> str:
    parts = []
    for key, word in (
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("maxLength", "max length"),
        ("maxItems", "max items"),
        ("minLength", "min length"),
    ):
        if key in schema:
            parts.append(f"{word} {schema[key]}")
    if "format" in schema:
        parts.append(schema["format"])
    return ", ".join(parts)


def _rows(schema: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    rows = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        rows.append(
            {
                "name": path,
                "type": _type_of(prop),
                "required": name in required,
                "limits": _limits(prop),
                "description": prop.get("description", ""),
            }
        )
        if prop.get("type") == "object" and prop.get("properties"):
            rows.extend(_rows(prop, f"{path}."))
    return rows


def page_model(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as plain rows for the server-rendered reference page."""
    operations = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            security = op.get("security", [])
            scopes = [scope for entry in security for scope in next(iter(entry.values()), [])]
            body = op.get("requestBody", {}).get("content", {}).get(JSON, {})
            operations.append(
                {
                    "id": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "tag": op.get("tags", [""])[0],
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "auth": "token with " + ", ".join(f"`{s}`" for s in scopes)
                    if scopes
                    else "none",
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": _type_of(p["schema"]),
                            "limits": _limits(p["schema"]),
                            "description": p.get("description", ""),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": _type_of(body["schema"]) if body else None,
                    "example": body.get("example"),
                    "responses": [
                        {
                            "status": status,
                            "description": response["description"],
                            "type": _type_of(
                                response.get("content", {}).get(JSON, {}).get("schema", {})
                            )
                            if response.get("content")
                            else "",
                            "headers": list(response.get("headers", {})),
                        }
                        for status, response in op["responses"].items()
                    ],
                }
            )
    schemas = [
        {"name": name, "description": schema.get("description", ""), "rows": _rows(schema)}
        for name, schema in doc["components"]["schemas"].items()
    ]
    return {
        "info": doc["info"],
        "tags": doc["tags"],
        "operations": operations,
        "schemas": schemas,
        "auth": doc["components"]["securitySchemes"]["token"]["description"],
    }
