"""One module per API function: parse the request, call one service method, shape the response."""
