// Templates are embedded with include_dir!, which cannot tell cargo about them on stable Rust.
fn main() {
    println!("cargo:rerun-if-changed=../../templates");
}
