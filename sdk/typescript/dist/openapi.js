// The strata API's types, made by scripts/openapi.mjs from GET /v1/openapi.json: do not edit.
export {};
