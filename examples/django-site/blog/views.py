from django.shortcuts import render


def index(request):
    return render(request, "blog/index.html", {"posts": ["Hello", "Static files at build time"]})
