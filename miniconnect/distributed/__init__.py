"""Distributed mode: workers that share connectors through Kafka's group coordinator and Connect's internal topics."""
