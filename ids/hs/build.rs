//! Link the system's libhs (libhyperscan-dev or libvectorscan-dev).
fn main() {
    println!("cargo:rustc-link-lib=dylib=hs");
}
