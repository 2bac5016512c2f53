# Sourced by the scripts that build outside the tree against an installed gfplab
# (tests/install/*.sh, fuzz/plugin/hunt.sh).
#
# scratch_root BUILD_DIR PC_NAME: installs BUILD_DIR into a scratch root (removed when the
# script exits) and points pkg-config at it. Sets root, pcdir (where PC_NAME.pc is) and
# libdir. Exits 1 when the install fails or PC_NAME.pc is missing.
scratch_root() {
  root=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$root'" EXIT
  meson install -C "$1" --destdir "$root" --no-rebuild --quiet || exit 1
  pcdir=$(dirname "$(find "$root" -name "$2.pc" | head -n1)")
  [ -f "$pcdir/$2.pc" ] || { echo "$2.pc was not installed"; exit 1; }
  libdir=$(dirname "$pcdir")
  export PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$root
}

# installed PROGRAM: the path of an installed program; exits 1 when there is none.
installed() {
  local path
  path=$(find "$root" -name "$1" -type f | head -n1)
  [ -x "$path" ] || { echo "$1 was not installed" >&2; exit 1; }
  echo "$path"
}
