//! Where things are: the workspace root (from this crate's manifest), the cargo target
//! directory, Trunk's separate one, the tools cache and the build output.

use std::path::PathBuf;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

/// The native target directory: `CARGO_TARGET_DIR` or `<root>/target`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Trunk builds in its own target directory so native and WASM builds never invalidate each other.
pub fn wasm_target_dir() -> PathBuf {
    target_dir().join("wasm")
}

/// Pinned tools that are not cargo binaries (binaryen from npm): `LIVECHAT_TOOLS_DIR` or
/// `~/.cache/livechat/tools`.
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LIVECHAT_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache/livechat/tools")
}

/// Trunk's output: `dist/widget` and `dist/console`.
pub fn dist_dir() -> PathBuf {
    root().join("dist")
}
