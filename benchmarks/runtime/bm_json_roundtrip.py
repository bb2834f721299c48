"""json.dumps and json.loads of a large generated document (a few hundred KiB).

Encoding builds one large str from many pieces (the encoder's buffers grow past 512 bytes);
decoding creates many dicts, lists and strs of mixed sizes. The document is generated from a
fixed seed, so every run and every image sees the same bytes.
"""

import argparse
import json
import random
from collections.abc import Callable
from typing import Any

from _common import VOCABULARY, make_runner, set_metadata, time_body

NAME = "json_roundtrip"
SEED = 2020
WORDS = (*VOCABULARY, "日本語", "naïve")


def make_document(records: int, seed: int = SEED) -> dict[str, Any]:
    rng = random.Random(seed)

    def text(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    return {
        "version": 1,
        "generated_by": "basebench",
        "records": [
            {
                "id": i,
                "name": text(3),
                "active": rng.random() < 0.7,
                "score": rng.random() * 1000,
                "tags": [rng.choice(WORDS) for _ in range(rng.randint(0, 6))],
                "history": [rng.randint(0, 10**9) for _ in range(rng.randint(2, 12))],
                "address": {
                    "city": text(1),
                    "street": text(2),
                    "zip": f"{rng.randint(0, 99999):05d}",
                },
                "notes": text(rng.randint(5, 60)) if rng.random() < 0.3 else None,
            }
            for i in range(records)
        ],
    }


def prepare(args: argparse.Namespace) -> Callable[[], object]:
    """One loop of the timed work, ready to call."""
    document = make_document(args.records)
    return lambda: json.loads(json.dumps(document))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--records", type=int, default=1_000, help="records in the document")


def main() -> None:
    runner, args = make_runner(add_arguments, lambda a: ["--records", str(a.records)])
    document = make_document(args.records)
    encoded = json.dumps(document)
    if json.loads(encoded) != document:
        raise SystemExit("json round trip changed the document")
    set_metadata(
        runner,
        "json.dumps + json.loads of a generated document",
        records=args.records,
        document_bytes=len(encoded.encode()),
        seed=SEED,
    )
    runner.bench_time_func(NAME, time_body, prepare(args))


if __name__ == "__main__":
    main()
