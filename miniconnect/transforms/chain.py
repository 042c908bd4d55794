"""The transformation chain of a connector (Kafka's TransformationChain and TransformationStage): built from the
connector's `transforms` / `predicates` keys, applied record by record as Kafka does, or a batch at a time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any

from ..errors import ConnectError
from .base import Predicate, Record, Transformation

# (index of the record in the batch, the stage's transformation, the exception) -> None to skip, or raises
OnError = Callable[[int, Transformation, BaseException], None]
# (one stage's operation on one record, the stage's transformation) -> (succeeded, result): the error handler's
# execute, which retries and tolerates as configured (runtime.error_handling.ErrorHandler.execute)
Execute = Callable[[Callable[[], Any], Transformation], Awaitable[tuple[bool, Any]]]


class TransformationStage:
    def __init__(self, transformation: Transformation, predicate: Predicate | None = None, negate: bool = False):
        self.transformation, self.predicate, self.negate = transformation, predicate, negate

    def applies(self, record: Record) -> bool:
        return self.predicate is None or self.negate != self.predicate.test(record)

    def apply(self, record: Record) -> Record | None:
        return self.transformation.apply(record) if self.applies(record) else record

    def close(self) -> None:
        self.transformation.close()
        if self.predicate is not None:
            self.predicate.close()


class TransformationChain:
    def __init__(self, stages: list[TransformationStage]):
        self.stages = stages

    def apply(self, record: Record) -> Record | None:
        for stage in self.stages:
            record = stage.apply(record)
            if record is None:
                return None
        return record

    def apply_batch(self, records: Sequence[Record], on_error: OnError | None = None) -> list[Record | None]:
        """Each record's result in batch order (None: dropped by a transform or skipped after an error). Each stage
        takes the batch in one call (Transformation.apply_batch); a stage that fails on the batch is run again
        record by record, so that on_error learns which record failed and decides whether the task goes on.
        Without on_error the failure is raised (the runners then take the batch through apply_each)."""
        out: list[Record | None] = list(records)
        for stage in self.stages:
            live = [i for i, r in enumerate(out) if r is not None] if None in out else range(len(out))
            if stage.predicate is not None:
                live = [i for i in live if stage.applies(out[i])]
            if not live:
                continue
            batch = [out[i] for i in live] if isinstance(live, list) else out
            try:
                results = stage.transformation.apply_batch(batch)
            except Exception:
                if on_error is None:
                    raise
                results = []
                for i in live:
                    try:
                        results.append(stage.transformation.apply(out[i]))
                    except Exception as e:
                        on_error(i, stage.transformation, e)
                        results.append(None)
            for i, r in zip(live, results):
                out[i] = r
        return out

    async def apply_each(self, record: Record, execute: Execute) -> Record | None:
        """Kafka's TransformationChain.apply for one record: each stage (its predicate too) run through `execute`;
        None when a stage drops the record or it failed and is skipped."""
        for stage in self.stages:
            ok, record = await execute(partial(stage.apply, record), stage.transformation)
            if not ok or record is None:
                return None
        return record

    def close(self) -> None:
        for stage in self.stages:
            stage.close()


def _prefixed(config: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)}


def _aliases(config: Mapping[str, str], key: str) -> list[str]:
    return list(dict.fromkeys(a.strip() for a in (config.get(key) or "").split(",") if a.strip()))


def build_chain(plugins: Any, config: Mapping[str, str]) -> TransformationChain | None:
    """ConnectorConfig.transformationStages: each alias's class made and configured with its `transforms.<alias>.`
    keys (less `predicate` and `negate`), its predicate with its `predicates.<alias>.` keys. None without
    transforms, so that a connector without them costs nothing."""
    stages = []
    for alias in _aliases(config, "transforms"):
        prefix = f"transforms.{alias}."
        try:
            props = _prefixed(config, prefix)
            transformation = plugins.resolve_transformation(props.pop("type", ""))()
            predicate_alias = props.pop("predicate", None)
            negate = str(props.pop("negate", "false")).strip().lower() == "true"
            props.pop("plugin.version", None)
            transformation.configure(props)
            predicate = None
            if predicate_alias is not None:
                pprops = _prefixed(config, f"predicates.{predicate_alias}.")
                if "type" not in pprops:
                    raise ConnectError(f"Unknown configuration 'predicates.{predicate_alias}.type'")
                predicate = plugins.resolve_predicate(pprops.pop("type"))()
                pprops.pop("plugin.version", None)
                predicate.configure(pprops)
            stages.append(TransformationStage(transformation, predicate, negate))
        except Exception as e:
            raise ConnectError(f"{type(e).__name__}: {e}") from e
    return TransformationChain(stages) if stages else None
