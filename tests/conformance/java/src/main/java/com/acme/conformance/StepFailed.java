package com.acme.conformance;

/** Why a step (or a vector) did not pass. */
final class StepFailed extends RuntimeException {
  StepFailed(String message) {
    super(message);
  }
}
