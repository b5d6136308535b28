"""A small real HTTP server on loopback that answers the OpenML API calls the `openml` package makes.

It serves two tiny datasets (61: three classes, 62: two classes with a categorical feature and missing
values), one classification task (59, on dataset 62, 2 repeats x 3 folds), one benchmark suite (99)
and a name lookup, in the XML/ARFF formats of the real API (gzip-encoded like the real server). Every
request path is recorded so tests can assert what was fetched. Nothing here touches the internet.
"""
from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold

OML = 'xmlns:oml="http://openml.org/openml"'


def _rows(did: int) -> tuple[list[str], list[list[Any]]]:
    """ARFF attribute lines and rows: deterministic, with a missing value and a categorical feature."""
    rng = np.random.RandomState(did)
    n = 60
    if did == 61:
        labels = ["neg"] * 40 + ["pos"] * 12 + ["rare"] * 8
        attributes = ["@ATTRIBUTE a NUMERIC", "@ATTRIBUTE b NUMERIC", "@ATTRIBUTE class {neg,pos,rare}"]
        rows = [[round(float(rng.randn()) + (i >= 40), 4), round(float(rng.randn()), 4), labels[i]] for i in range(n)]
    else:
        labels = ["no"] * 45 + ["yes"] * 15
        attributes = ["@ATTRIBUTE a NUMERIC", "@ATTRIBUTE color {red,green,blue}", "@ATTRIBUTE const NUMERIC",
                      "@ATTRIBUTE class {no,yes}"]
        colors = ["red", "green", "blue"]
        rows = [[round(float(rng.randn()) + 2 * (i >= 45), 4), colors[i % 3], 1.0, labels[i]] for i in range(n)]
        rows[3][0] = "?"
    order = rng.permutation(n)  # classes interleaved, as in real files
    return attributes, [rows[i] for i in order]


def arff(did: int) -> str:
    attributes, rows = _rows(did)
    body = "\n".join(",".join(str(v) for v in row) for row in rows)
    return f"@RELATION tiny{did}\n\n" + "\n".join(attributes) + "\n\n@DATA\n" + body + "\n"


def labels(did: int) -> list[str]:
    return [row[-1] for row in _rows(did)[1]]


def task_splits() -> list[tuple[np.ndarray, np.ndarray]]:
    """The splits task 59 serves: repeat r, fold f at position r * 3 + f."""
    y = np.array(labels(62))
    return list(RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=123).split(np.zeros(len(y)), y))


def splits_arff() -> str:
    lines = ["@RELATION splits", "@ATTRIBUTE type {TRAIN,TEST}", "@ATTRIBUTE rowid NUMERIC",
             "@ATTRIBUTE repeat NUMERIC", "@ATTRIBUTE fold NUMERIC", "@DATA"]
    for index, (train, test) in enumerate(task_splits()):
        repeat, fold = divmod(index, 3)
        lines += [f"TRAIN,{i},{repeat},{fold}" for i in train] + [f"TEST,{i},{repeat},{fold}" for i in test]
    return "\n".join(lines) + "\n"


def description(did: int, base: str) -> str:
    name = {61: "tiny-multi", 62: "tiny-binary"}[did]
    return (f'<oml:data_set_description {OML}><oml:id>{did}</oml:id><oml:name>{name}</oml:name>'
            f'<oml:version>1</oml:version><oml:description>test data</oml:description><oml:format>ARFF</oml:format>'
            f'<oml:licence>Public</oml:licence><oml:url>{base}/data/v1/download/{did}/{name}.arff</oml:url>'
            f'<oml:default_target_attribute>class</oml:default_target_attribute><oml:status>active</oml:status>'
            f'</oml:data_set_description>')


def features(did: int) -> str:
    attributes, _ = _rows(did)
    parts = []
    for index, line in enumerate(attributes):
        _, name, kind = line.split(" ", 2)
        nominal = kind.startswith("{")
        values = "".join(f"<oml:nominal_value>{v}</oml:nominal_value>" for v in kind.strip("{}").split(",")) \
            if nominal else ""
        parts.append(f"<oml:feature><oml:index>{index}</oml:index><oml:name>{name}</oml:name>"
                     f"<oml:data_type>{'nominal' if nominal else 'numeric'}</oml:data_type>{values}"
                     f"<oml:is_target>{str(name == 'class').lower()}</oml:is_target><oml:is_ignore>false</oml:is_ignore>"
                     f"<oml:is_row_identifier>false</oml:is_row_identifier>"
                     f"<oml:number_of_missing_values>0</oml:number_of_missing_values></oml:feature>")
    return f"<oml:data_features {OML}>{''.join(parts)}</oml:data_features>"


def qualities(did: int) -> str:
    n_classes = 3 if did == 61 else 2
    return (f"<oml:data_qualities {OML}><oml:quality><oml:name>NumberOfClasses</oml:name>"
            f"<oml:value>{n_classes}</oml:value></oml:quality><oml:quality><oml:name>NumberOfInstances</oml:name>"
            f"<oml:value>60</oml:value></oml:quality></oml:data_qualities>")


def task(base: str) -> str:
    return (f'<oml:task {OML}><oml:task_id>59</oml:task_id><oml:task_name>Task 59</oml:task_name>'
            '<oml:task_type_id>1</oml:task_type_id><oml:task_type>Supervised Classification</oml:task_type>'
            '<oml:input name="source_data"><oml:data_set><oml:data_set_id>62</oml:data_set_id>'
            '<oml:target_feature>class</oml:target_feature></oml:data_set></oml:input>'
            '<oml:input name="estimation_procedure"><oml:estimation_procedure><oml:id>1</oml:id>'
            f'<oml:type>crossvalidation</oml:type><oml:data_splits_url>{base}/api_splits/get/59/Task_59_splits.arff'
            '</oml:data_splits_url><oml:parameter name="number_repeats">2</oml:parameter>'
            '<oml:parameter name="number_folds">3</oml:parameter><oml:parameter name="percentage"/>'
            '<oml:parameter name="stratified_sampling">true</oml:parameter></oml:estimation_procedure></oml:input>'
            '<oml:input name="evaluation_measures"><oml:evaluation_measures>'
            '<oml:evaluation_measure>predictive_accuracy</oml:evaluation_measure></oml:evaluation_measures>'
            '</oml:input></oml:task>')


def data_list(dids: list[int]) -> str:
    names = {61: "tiny-multi", 62: "tiny-binary"}
    items = "".join(f"<oml:dataset><oml:did>{d}</oml:did><oml:name>{names[d]}</oml:name><oml:version>1</oml:version>"
                    f"<oml:status>active</oml:status><oml:format>ARFF</oml:format>"
                    f'<oml:quality name="NumberOfClasses">{3 if d == 61 else 2}.0</oml:quality>'
                    '<oml:quality name="NumberOfInstances">60.0</oml:quality></oml:dataset>' for d in dids)
    return f"<oml:data {OML}>{items}</oml:data>"


def suite() -> str:
    return (f'<oml:study {OML}><oml:id>99</oml:id><oml:alias>tiny-suite</oml:alias>'
            '<oml:main_entity_type>task</oml:main_entity_type><oml:name>tiny suite</oml:name>'
            '<oml:description>test</oml:description><oml:status>active</oml:status>'
            '<oml:creation_date>2024-01-01T00:00:00</oml:creation_date><oml:creator>1</oml:creator>'
            '<oml:data><oml:data_id>61</oml:data_id><oml:data_id>62</oml:data_id></oml:data>'
            '<oml:tasks><oml:task_id>59</oml:task_id></oml:tasks></oml:study>')


def task_list() -> str:
    return (f'<oml:tasks {OML}><oml:task><oml:task_id>59</oml:task_id><oml:task_type_id>1</oml:task_type_id>'
            '<oml:task_type>Supervised Classification</oml:task_type><oml:did>62</oml:did>'
            '<oml:name>tiny-binary</oml:name><oml:status>active</oml:status>'
            '<oml:input name="estimation_procedure">1</oml:input>'
            '<oml:quality name="NumberOfClasses">2.0</oml:quality><oml:quality name="NumberOfInstances">60.0</oml:quality>'
            '</oml:task></oml:tasks>')


def procedures() -> str:
    return (f'<oml:estimationprocedures {OML}><oml:estimationprocedure><oml:id>1</oml:id><oml:ttid>1</oml:ttid>'
            '<oml:name>2 x 3-fold Crossvalidation</oml:name><oml:type>crossvalidation</oml:type>'
            '</oml:estimationprocedure><oml:estimationprocedure><oml:id>2</oml:id><oml:ttid>1</oml:ttid>'
            '<oml:name>Holdout</oml:name><oml:type>holdout</oml:type></oml:estimationprocedure>'
            '</oml:estimationprocedures>')


class FakeOpenML:
    """Start with `with FakeOpenML() as server:`; `server.api` is the value for openml.config.server."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                fake.requests.append(self.path)
                body = fake.answer(self.path.split("?", 1)[0])
                if body is None:  # the real API's "no results" (372 for listings) and "unknown" (111) errors
                    code = 372 if "/list/" in self.path else 111
                    error = (f'<oml:error {OML}><oml:code>{code}</oml:code><oml:message>No results'
                             '</oml:message></oml:error>')
                    self._send(412, error)
                else:
                    self._send(200, body)

            def _send(self, status: int, text: str) -> None:
                payload = gzip.compress(text.encode())
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.api = f"{self.base}/api/v1/xml"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, path: str) -> str | None:
        api = "/api/v1/xml/"
        if path.startswith("/data/v1/download/"):
            return arff(int(path.split("/")[4]))
        if path == "/api_splits/get/59/Task_59_splits.arff":
            return splits_arff()
        if not path.startswith(api):
            return None
        call = path[len(api):].split("/")
        if call[0] == "data" and len(call) == 2 and call[1] in ("61", "62"):
            return description(int(call[1]), self.base)
        if call[:2] == ["data", "features"] and call[2] in ("61", "62"):
            return features(int(call[2]))
        if call[:2] == ["data", "qualities"] and call[2] in ("61", "62"):
            return qualities(int(call[2]))
        if call[:2] == ["data", "list"]:
            filters = dict(zip(call[2::2], call[3::2]))
            if "data_name" in filters:
                found = [d for d, n in ((61, "tiny-multi"), (62, "tiny-binary")) if n == filters["data_name"]]
                return data_list(found) if found else None
            if "data_id" in filters:
                return data_list([int(d) for d in filters["data_id"].split(",")])
        if call == ["task", "59"]:
            return task(self.base)
        if call[:2] == ["task", "list"]:
            return task_list()
        if call[:2] == ["estimationprocedure", "list"]:
            return procedures()
        if call[0] == "study" and call[1] in ("99", "tiny-suite"):
            return suite()
        return None

    def __enter__(self) -> "FakeOpenML":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __exit__(self, *exc: object) -> None:
        if self.thread.is_alive():
            self.stop()
