def greet(n):
    return f"hi {n}"
