"""Prometheus metrics, one registry per app (so tests can build many apps in one process)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

OUTBOX_STATUSES = ("pending", "sent", "dead")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "tuanbot_messages", "Inbound messages by channel and outcome", ["channel", "outcome"], registry=self.registry
        )
        self.handle_seconds = Histogram(
            "tuanbot_handle_seconds",
            "Time to handle one inbound message",
            ["channel"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.orders = Counter("tuanbot_orders", "Orders placed", registry=self.registry)
        self.outbox = Gauge("tuanbot_outbox_messages", "Outbox rows by status", ["status"], registry=self.registry)
        self._children: dict = {}  # labels() looks its child up under a lock each time; a message counts twice

    def observe_message(self, channel: str, outcome: str, seconds: float, orders: int = 0) -> None:
        children = self._children.get((channel, outcome))
        if children is None:
            children = self._children[(channel, outcome)] = (
                self.messages.labels(channel, outcome), self.handle_seconds.labels(channel),
            )
        children[0].inc()
        children[1].observe(seconds)
        if orders:
            self.orders.inc(orders)

    def render(self, outbox_counts: dict[str, int]) -> bytes:
        for status in OUTBOX_STATUSES:
            self.outbox.labels(status).set(outbox_counts.get(status, 0))
        return generate_latest(self.registry)
