/**
 * A setting the operator gave (a flag, a file, an environment variable) cannot be used: a stable
 * code, what is wrong, and how to fix it. Every room reports bad configuration with it.
 */
export class ConfigError extends Error {
  constructor(readonly code: string, message: string, readonly hint: string) {
    super(`${message} (${code})`);
    this.name = "ConfigError";
  }
}
