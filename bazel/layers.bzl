"""The layer table (../shared/DESIGN.md "Layout and layers"; docs/architecture.md).

One entry per top-level folder: the folders its targets may depend on. From
it, bazel/BUILD.bazel makes one package_group per folder, `<folder>_users`
(the packages that may depend on that folder), which every BUILD.bazel
names in `package(default_visibility = ...)`, so a wrong-way `deps` fails
the build with a visibility error. //tests:layering_test checks the same
table against the real dependency graph (it catches a target whose own
`visibility` reopens it).

third_party/ and the root package (//:WORKSPACE) are open to every folder;
the third-party libraries listed in RESTRICTED are not.
"""

_BELOW_SERVICES = ["core", "models", "diffusion", "experiments", "jobs", "dataset", "survey", "trainer", "evaluator"]
_RPC = ["protos", "rpc"]

# folder -> the folders it may depend on (besides itself and third_party).
LAYERS = {
    "protos": [],  # generated gRPC/protobuf code: the RPC layer only
    "rpc": [],  # the one absl::Status <-> grpc::Status mapping
    "core": [],
    "models": ["core"],
    "diffusion": ["models", "core"],
    "experiments": ["core"],
    "jobs": ["experiments", "core"],
    "dataset": ["experiments", "core"],
    "survey": ["experiments", "core"],
    "trainer": ["models", "diffusion", "dataset", "experiments", "jobs", "core"],
    "evaluator": ["models", "diffusion", "dataset", "experiments", "jobs", "core"],
    "services": _RPC + _BELOW_SERVICES,
    "cli": _RPC,  # gRPC only: no LibTorch (see also EXCEPTIONS)
    "parity": _BELOW_SERVICES,
    "tools": _RPC + _BELOW_SERVICES + ["services", "parity"],
    "tests": _RPC + _BELOW_SERVICES + ["services", "parity", "tools", "cli"],
    "e2e": _RPC + _BELOW_SERVICES + ["services", "parity", "tools", "cli", "tests"],
    "bench": _RPC + _BELOW_SERVICES + ["services", "parity", "tools", "cli", "tests"],
}

# Edges the table does not allow, each opened by the target's own
# `visibility` attribute: [target, folder that may use it, why].
EXCEPTIONS = [
    ["//core:csv", "cli", "torch-free leaf (CSV export of metrics); //tests:cli_links_no_torch_test guards the client"],
    ["//core:sha256", "cli", "torch-free leaf (upload checksums); //tests:cli_links_no_torch_test guards the client"],
    ["//tests:survey_test_pairs", "survey", "testonly fixture the survey unit tests share with tests/ and bench/"],
]

# Third-party libraries only some folders may use: label -> folders.
RESTRICTED = {
    "//third_party:grpc": ["protos", "rpc", "services", "cli", "tests", "bench"],
    "//third_party:sqlitecpp": ["experiments", "tests", "bench"],
}

def _users(layer):
    return [layer] + sorted([user for user, deps in LAYERS.items() if layer in deps])

def layer_package_groups():
    """One package_group per layer, `<layer>_users`, and one per RESTRICTED label."""
    for layer in LAYERS:
        native.package_group(
            name = layer + "_users",
            packages = ["//%s/..." % user for user in _users(layer)],
        )
    for label, users in RESTRICTED.items():
        native.package_group(
            name = label.split(":")[1] + "_users",
            packages = ["//%s/..." % user for user in users] + ["//third_party/..."],
        )

def layer_table(name, **kwargs):
    """A text file of the table for checks: `layer F DEP...`, `exception T F`, `restricted L F...`."""
    lines = ["layer %s %s" % (layer, " ".join(deps)) for layer, deps in LAYERS.items()]
    lines += ["exception %s %s" % (target, user) for target, user, _ in EXCEPTIONS]
    lines += ["restricted %s %s" % (label, " ".join(users)) for label, users in RESTRICTED.items()]
    native.genrule(
        name = name,
        outs = [name + ".txt"],
        cmd = "printf '%s\\n' " + " ".join(["'%s'" % line for line in lines]) + " > $@",
        **kwargs
    )
