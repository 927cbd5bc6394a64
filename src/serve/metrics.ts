/**
 * Prometheus metrics of one server (its own prom-client registry, so several servers in one
 * process do not collide): requests and latency per route, events ingested, the served model's
 * version and age, plus the process defaults (CPU, RSS, event-loop lag).
 */
import client from "prom-client";

export class ServiceMetrics {
  readonly registry = new client.Registry();
  readonly requests: client.Counter<"method" | "route" | "status">;
  readonly latency: client.Histogram<"method" | "route">;
  readonly eventsIngested: client.Counter;
  readonly modelInfo: client.Gauge<"version">;

  constructor(modelTrainedAt: () => number, modelLoadedAt: () => number) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry });
    this.requests = new client.Counter({
      name: "watchnext_http_requests_total",
      help: "HTTP requests by method, route and status code",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.latency = new client.Histogram({
      name: "watchnext_http_request_duration_seconds",
      help: "HTTP request latency by method and route",
      labelNames: ["method", "route"],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.eventsIngested = new client.Counter({
      name: "watchnext_events_ingested_total",
      help: "Events written durably to the store",
      registers,
    });
    this.modelInfo = new client.Gauge({
      name: "watchnext_model_info",
      help: "The served model (1 for its version)",
      labelNames: ["version"],
      registers,
    });
    new client.Gauge({
      name: "watchnext_model_age_seconds",
      help: "Seconds since the served model was trained",
      registers,
      collect() {
        this.set((Date.now() - modelTrainedAt()) / 1000);
      },
    });
    new client.Gauge({
      name: "watchnext_model_loaded_timestamp_seconds",
      help: "When the served model was loaded (epoch seconds)",
      registers,
      collect() {
        this.set(modelLoadedAt() / 1000);
      },
    });
  }

  setModel(version: string): void {
    this.modelInfo.reset();
    this.modelInfo.set({ version }, 1);
  }
}
