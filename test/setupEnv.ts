// The SDK warns on every client that Node 20 support ends in 2027; Lambda runs nodejs24.x, so the
// warning says nothing about production and would bury the test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
