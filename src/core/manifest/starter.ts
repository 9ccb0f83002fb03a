/** The commented starter manifest that `bottle init` writes. */
export const STARTER_MANIFEST = `# bot-bottle manifest. Reference: \`bottle manifest schema\`; check it: \`bottle manifest validate\`.
version: 1

agents:
  # An interactive shell in a bottle: try a policy by hand, no model key needed.
  #   bottle start shell
  shell:
    bottle: dev
    provider: shell

  # Claude Code in the same kind of bottle. It reads its key through the credential route below.
  #   export ANTHROPIC_API_KEY=...   (or a token from \`claude setup-token\`)
  #   bottle start implementer --cwd
  implementer:
    bottle: dev
    provider: claude
    prompt: "You implement issues in this repository. Commit your work on a bottle/ branch."
    skills: []                    # folders of ~/.claude/skills to copy in
    env:
      LOG_LEVEL: info
      GIT_AUTHOR_NAME: "\${USER}" # \${NAME} forwards a host variable; its value is never printed

  # OpenAI's Codex CLI, in a bottle of its own. Its key, too, stays outside: only the route has it.
  #   export OPENAI_API_KEY=...
  #   bottle start coder --cwd
  coder:
    bottle: codex
    provider: codex
    prompt: "You implement issues in this repository. Commit your work on a bottle/ branch."
    skills: []                    # folders of ~/.claude/skills, copied to ~/.codex/skills

bottles:
  dev:
    runtime: auto                 # gVisor (runsc) when the engine has it, else runc
    resources: {memory: 4g, cpus: 2, pids: 512}
    egress:                       # deny by default: list what the agent may reach
      allow:
        - codeload.github.com
        - "*.githubusercontent.com"
        - {host: api.github.com, methods: [GET]}
      deny: [paste.example.com]   # added to the built-in list of paste sites, file drops,
      builtin_deny: true          #   request catchers (name one in allow to reach it; false drops it)
      tls: intercept              # open TLS under the bottle's own CA to check paths and bodies
      dlp: block                  # block requests that carry secrets
    credentials:
      - name: anthropic
        path: /anthropic
        upstream: https://api.anthropic.com
        token: {env: ANTHROPIC_API_KEY}
        role: anthropic-base-url
    # git:                        # the git gate holds the key and checks every push
    #   - name: app
    #     upstream: "git@github.com:me/app.git"   # the agent clones and pushes this URL as is
    #     identity_file: ~/.ssh/bottle_key         # read on the host; only the sidecar gets it
    #     # known_hosts: ~/.ssh/known_hosts        # default; or pin: host_keys: ["github.com ssh-ed25519 AAAA..."]
    #     push: {branches: ["bottle/{identity}/*"], force: false, delete: false, max_size: 100m}
    supervise: true

  codex:
    runtime: auto
    resources: {memory: 4g, cpus: 2, pids: 512}
    egress:
      allow: [codeload.github.com, "*.githubusercontent.com", {host: api.github.com, methods: [GET]}]
    credentials:
      - name: openai
        path: /openai
        upstream: https://api.openai.com/v1   # Codex speaks the Responses API to <route>/responses
        token: {env: OPENAI_API_KEY}
        role: openai-base-url
        # A ChatGPT login instead (only its access token leaves the host):
        #   upstream: https://chatgpt.com/backend-api/codex
        #   token: {file: ~/.codex/auth.json}
        #   inject: chatgpt
    supervise: true
`;
