"""Protobuf + gRPC C++ code generation with Debian's protoc and grpc_cpp_plugin.

Bazel 4's proto_library needs @com_google_protobuf (a download); this macro
runs the system compilers through a genrule instead. Protos live under
protos/ and import each other as "dreamshot/v1/<file>.proto".
"""

_PROTOC = "/usr/bin/protoc"
_GRPC_PLUGIN = "/usr/bin/grpc_cpp_plugin"

def dreamshot_cc_grpc_library(name, srcs, deps = [], grpc = True, visibility = None):
    """Generates <name> (cc_library) and <name>_protos (the .proto files, for dependants).

    Args:
      name: target name.
      srcs: .proto files in this package (paths relative to it).
      deps: other dreamshot_cc_grpc_library targets whose protos these import.
      grpc: also generate service stubs.
      visibility: visibility of the generated targets.
    """
    native.filegroup(
        name = name + "_protos",
        srcs = srcs + [d + "_protos" for d in deps],
        visibility = visibility,
    )
    stems = [s[:-len(".proto")] for s in srcs]
    hdrs = [s + ".pb.h" for s in stems]
    cc_srcs = [s + ".pb.cc" for s in stems]
    if grpc:
        hdrs += [s + ".grpc.pb.h" for s in stems]
        cc_srcs += [s + ".grpc.pb.cc" for s in stems]
    pkg = native.package_name()
    grpc_flags = ""
    if grpc:
        grpc_flags = "--plugin=protoc-gen-grpc=%s --grpc_out=$(GENDIR)/%s " % (_GRPC_PLUGIN, pkg)
    native.genrule(
        name = name + "_codegen",
        srcs = [name + "_protos"],
        outs = hdrs + cc_srcs,
        cmd = ("%s --proto_path=%s --cpp_out=$(GENDIR)/%s %s" % (_PROTOC, pkg, pkg, grpc_flags)) +
              " ".join(["%s/%s" % (pkg, s) for s in srcs]),
        message = "Generating C++ for %s" % ", ".join(srcs),
    )
    native.cc_library(
        name = name,
        srcs = cc_srcs,
        hdrs = hdrs,
        includes = ["."],
        deps = deps + ["//third_party:grpc", "//third_party:protobuf"],
        visibility = visibility,
    )
