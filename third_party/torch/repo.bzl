"""Repository rule exposing a LibTorch installation as @libtorch//:torch.

LIBTORCH_PATH unset: Debian's libtorch-dev (headers in /usr/include, libraries
in the multiarch lib dir). LIBTORCH_PATH=/opt/libtorch: an unpacked LibTorch
distribution (include/, lib/), e.g. a CUDA build; its CUDA libraries are
linked in when present.
"""

_DEBIAN_API_INCLUDE = "/usr/include/torch/csrc/api/include"
_DEBIAN_LIB_DIRS = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"]

_BUILD = """
cc_library(
    name = "torch",
    hdrs = glob({hdr_globs}, allow_empty = True),
    includes = {includes},
    linkopts = {linkopts},
    visibility = ["//visibility:public"],
)
"""

def _libtorch_repository_impl(ctx):
    root = ctx.os.environ.get("LIBTORCH_PATH", "")
    if root:
        root = root.rstrip("/")
        if not ctx.path(root + "/include/torch/csrc/api/include/torch/torch.h").exists:
            fail("LIBTORCH_PATH=%s is not a LibTorch distribution: %s/include/torch/csrc/api/include/torch/torch.h is missing" % (root, root))
        lib_dir = root + "/lib"
        ctx.symlink(root + "/include", "include")
        ctx.symlink(root + "/include/torch/csrc/api/include", "api_include")
        hdr_globs = ["include/**/*.h", "include/**/*.hpp", "include/**/*.cuh", "api_include/**/*.h"]
        includes = ["include", "api_include"]
    else:
        if not ctx.path(_DEBIAN_API_INCLUDE + "/torch/torch.h").exists:
            fail("LibTorch not found: install Debian's libtorch-dev (tools/setup.sh does) or set LIBTORCH_PATH to a LibTorch distribution")
        lib_dir = None
        for d in _DEBIAN_LIB_DIRS:
            if ctx.path(d + "/libtorch.so").exists:
                lib_dir = d
        if not lib_dir:
            fail("libtorch.so not found in %s: install libtorch-dev or set LIBTORCH_PATH" % _DEBIAN_LIB_DIRS)

        # Only the C++ API folder is off the default search path; the rest of
        # the headers live in /usr/include, which the compiler already searches.
        ctx.symlink(_DEBIAN_API_INCLUDE, "api_include")
        hdr_globs = ["api_include/**/*.h"]
        includes = ["api_include"]

    libs = ["-ltorch", "-ltorch_cpu", "-lc10"]
    if ctx.path(lib_dir + "/libtorch_cuda.so").exists:
        # CUDA kernels register themselves at load time: keep the libraries
        # even though no symbol of theirs is referenced directly.
        libs = ["-Wl,--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Wl,--as-needed"] + libs
    linkopts = ["-L" + lib_dir, "-Wl,-rpath," + lib_dir] + libs + ["-lpthread"]
    ctx.file("BUILD.bazel", _BUILD.format(
        hdr_globs = repr(hdr_globs),
        includes = repr(includes),
        linkopts = repr(linkopts),
    ))
    ctx.file("WORKSPACE", "workspace(name = \"libtorch\")\n")

libtorch_repository = repository_rule(
    implementation = _libtorch_repository_impl,
    environ = ["LIBTORCH_PATH"],
    local = True,
)
