/**
 * Errors of the strata API, one class per kind of failure.
 *
 * The server answers a failed call with `{"error": {"kind", "message", "field"}}`; each
 * `kind` maps to one class here, and the error carries the server's message.
 */
/** A call failed. `kind` and `field` are the server's; `status` its HTTP status. */
export declare class StrataError extends Error {
    readonly kind: string;
    readonly field: string | null;
    readonly status: number | null;
    constructor(message: string, kind?: string, field?: string | null, status?: number | null);
}
/** A value was refused; `field` names it. */
export declare class InvalidInput extends StrataError {
}
/** No such volume, snapshot, file or sandbox (or the volume was deleted while in use). */
export declare class NotFound extends StrataError {
}
/** The call clashes with the current state (exists already, in use, not empty...). */
export declare class Conflict extends StrataError {
}
/** Something of that name exists already. */
export declare class AlreadyExists extends Conflict {
}
/** No API key, or one the server does not know. */
export declare class Unauthorized extends StrataError {
}
/** The key may not do this, the target is read-only, or a limit is reached. */
export declare class PermissionDenied extends StrataError {
}
/** A quota of bytes or files would be passed. */
export declare class QuotaExceeded extends PermissionDenied {
}
/** The server, or a store behind it, cannot be reached. */
export declare class Unavailable extends StrataError {
}
/** The server failed; its log says more. */
export declare class InternalError extends StrataError {
}
/** The error for a failed answer: its JSON error body, or the raw text. */
export declare function fromBody(status: number, body: string): StrataError;
