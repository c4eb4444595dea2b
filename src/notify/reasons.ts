/** Condition reasons for notification deliveries. */
export const NotifyReason = {
  /** The type is valid in the API but this version does not deliver it. */
  ChannelNotImplemented: "ChannelNotImplemented",
  /** The service answered 4xx (not 408/429) or redirected: the URL or credentials need fixing. */
  DeliveryRejected: "DeliveryRejected",
  /** Every attempt failed with a retryable outcome (5xx, 429, network error, timeout). */
  DeliveryFailed: "DeliveryFailed",
  /** The caller cancelled (controller shutting down). */
  DeliveryAborted: "DeliveryAborted",
  /** A resolved secret cannot be used as given (URL not http(s), header value with line breaks). */
  InvalidChannelSecret: "InvalidChannelSecret",
} as const;
