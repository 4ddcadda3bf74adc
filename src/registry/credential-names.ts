/**
 * Names that are also someone else's credential: the daemon's own configuration, the propose
 * Action's keys, a CI runner's tokens, a cloud or registry login that an operator's shell or a
 * runner often holds. A registry file may still declare most of them (a GitHub server does need a
 * GitHub token), but the reviewer is told, and the proposer never proposes the daemon's or CI's
 * own (`daemon`): a README that asks for them is asking for the gateway's keys.
 */

export interface CredentialNameNote {
  /** `daemon`: the daemon's, the proposer's or CI's own; `ambient`: a credential shells and runners often hold. */
  kind: "daemon" | "ambient";
  /** One sentence for the reviewer. */
  why: string;
}

/** The daemon's configuration, the propose Action's keys and CI's own: never proposed. */
export const DAEMON_NAMES = /^(MCP_ROUTER_[A-Z0-9_]*|ANTHROPIC_API_KEY|ANTHROPIC_AUTH_TOKEN|ANTHROPIC_BASE_URL|CLAUDE_API_KEY|GITHUB_TOKEN|GH_TOKEN|ACTIONS_[A-Z0-9_]*|RUNNER_[A-Z0-9_]*|GITHUB_(ACTIONS|WORKSPACE|EVENT_PATH|REPOSITORY|SHA|REF|RUN_ID|OUTPUT|ENV|STEP_SUMMARY))$/;

const AMBIENT: readonly [RegExp, string][] = [
  [/^(OPENAI_API_KEY|AZURE_OPENAI_API_KEY|GEMINI_API_KEY|GOOGLE_API_KEY)$/, "a model provider's key that operators often hold for their own tools"],
  [/^(AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SESSION_TOKEN|AWS_PROFILE|GOOGLE_APPLICATION_CREDENTIALS|AZURE_CLIENT_SECRET|AZURE_CLIENT_ID|AZURE_TENANT_ID|ARM_CLIENT_SECRET)$/, "a cloud account's credential, often the operator's or a runner's own"],
  [/^(NPM_TOKEN|NODE_AUTH_TOKEN|PYPI_TOKEN|TWINE_PASSWORD|CARGO_REGISTRY_TOKEN)$/, "a package registry's publishing token, as CI runners hold it"],
  [/^DOCKER_[A-Z0-9_]+$/, "the name of a container engine's or registry's setting (DOCKER_HOST, DOCKER_AUTH_CONFIG): the engine is root on its host"],
  [/^(KUBECONFIG|KUBE_TOKEN|SSH_AUTH_SOCK|SSH_PRIVATE_KEY|GPG_PRIVATE_KEY|VAULT_TOKEN)$/, "a cluster, SSH or vault credential of the operator's own"],
  [/^(CI_JOB_TOKEN|CI_REGISTRY_PASSWORD|BUILDKITE_AGENT_TOKEN|CIRCLE_TOKEN)$/, "a CI runner's own token"],
];

/** Why `name` deserves a second look, or undefined. Case-insensitive. */
export function credentialNameNote(name: string): CredentialNameNote | undefined {
  const upper = name.toUpperCase();
  if (DAEMON_NAMES.test(upper)) {
    if (/^(GITHUB_TOKEN|GH_TOKEN)$/.test(upper)) {
      return { kind: "daemon", why: "also the name CI runners and the propose Action use for their own token: grant a token scoped to this server, never the runner's" };
    }
    if (upper.startsWith("MCP_ROUTER_")) return { kind: "daemon", why: "names the daemon's own configuration" };
    if (/^(ACTIONS_|RUNNER_|GITHUB_)/.test(upper)) return { kind: "daemon", why: "a GitHub Actions runner's own setting or token" };
    return { kind: "daemon", why: "the key the propose Action and many operators use for their own Claude calls: grant a separate key meant for this server" };
  }
  const ambient = AMBIENT.find(([pattern]) => pattern.test(upper));
  return ambient ? { kind: "ambient", why: `${ambient[1]}: grant a value meant for this server only` } : undefined;
}
