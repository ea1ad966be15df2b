// Package agreement holds the tests that hold the parts of hubsecrets to
// one contract: the policy's parameters decide, and what the checker
// passes, the first-boot hook keeps byte for byte; what the hook makes, the
// checker passes. It has no code of its own.
package agreement
