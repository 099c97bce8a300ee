"""``python -m api.worker``: a standalone worker process polling the configured database."""

from __future__ import annotations

import argparse
import logging
import time

from api.db.config import metodika_home
from api.db.session import make_engine, make_sessionmaker
from api.worker.pool import Worker


def main() -> None:
    parser = argparse.ArgumentParser(description="Фоновый обработчик: импорт реестров и расчёты")
    parser.add_argument("--threads", type=int, default=None, help="число потоков")
    parser.add_argument("--interval", type=float, default=2.0, help="период опроса базы, с")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    worker = Worker(make_sessionmaker(make_engine()), metodika_home(), args.threads)
    worker.recover(reset_running=False)
    try:
        while True:
            time.sleep(args.interval)
            if worker.pending() == 0:
                worker.recover(reset_running=False)
    except KeyboardInterrupt:
        worker.shutdown(wait_jobs=True)


if __name__ == "__main__":
    main()
