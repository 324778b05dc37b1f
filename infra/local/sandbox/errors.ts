/** Control-operation errors, answered by the control API as 404, 409 and 400. */

export class SandboxNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxNotFoundError';
  }
}

/** A control operation that cannot run in the sandbox's present state (409). */
export class SandboxConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxConflictError';
  }
}

/** A control input that is well-formed but does not fit its target (400). */
export class SandboxInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxInputError';
  }
}
