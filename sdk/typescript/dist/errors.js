/**
 * Errors of the strata API, one class per kind of failure.
 *
 * The server answers a failed call with `{"error": {"kind", "message", "field"}}`; each
 * `kind` maps to one class here, and the error carries the server's message.
 */
/** A call failed. `kind` and `field` are the server's; `status` its HTTP status. */
export class StrataError extends Error {
    kind;
    field;
    status;
    constructor(message, kind = "internal", field = null, status = null) {
        super(message);
        this.name = new.target.name;
        this.kind = kind;
        this.field = field;
        this.status = status;
    }
}
/** A value was refused; `field` names it. */
export class InvalidInput extends StrataError {
}
/** No such volume, snapshot, file or sandbox (or the volume was deleted while in use). */
export class NotFound extends StrataError {
}
/** The call clashes with the current state (exists already, in use, not empty...). */
export class Conflict extends StrataError {
}
/** Something of that name exists already. */
export class AlreadyExists extends Conflict {
}
/** No API key, or one the server does not know. */
export class Unauthorized extends StrataError {
}
/** The key may not do this, the target is read-only, or a limit is reached. */
export class PermissionDenied extends StrataError {
}
/** A quota of bytes or files would be passed. */
export class QuotaExceeded extends PermissionDenied {
}
/** The server, or a store behind it, cannot be reached. */
export class Unavailable extends StrataError {
}
/** The server failed; its log says more. */
export class InternalError extends StrataError {
}
const BY_KIND = {
    invalid_input: InvalidInput,
    name_too_long: InvalidInput,
    too_large: InvalidInput,
    not_found: NotFound,
    volume_gone: NotFound,
    no_such_attribute: NotFound,
    already_exists: AlreadyExists,
    conflict: Conflict,
    stale: Conflict,
    locked: Conflict,
    not_a_directory: Conflict,
    is_a_directory: Conflict,
    directory_not_empty: Conflict,
    unauthorized: Unauthorized,
    permission_denied: PermissionDenied,
    read_only: PermissionDenied,
    limit_exceeded: PermissionDenied,
    quota_exceeded: QuotaExceeded,
    unavailable: Unavailable,
    internal: InternalError,
};
/** The error for a failed answer: its JSON error body, or the raw text. */
export function fromBody(status, body) {
    try {
        const error = JSON.parse(body).error;
        if (error && typeof error === "object") {
            const kind = typeof error.kind === "string" ? error.kind : "internal";
            const Kind = (Object.hasOwn(BY_KIND, kind) ? BY_KIND[kind] : undefined) ?? StrataError;
            const field = typeof error.field === "string" ? error.field : null;
            return new Kind(String(error.message ?? ""), kind, field, status);
        }
    }
    catch {
        // not JSON: fall through to the raw text
    }
    return new InternalError(`server answered ${status}: ${body}`, "internal", null, status);
}
