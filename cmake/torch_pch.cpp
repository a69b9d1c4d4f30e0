// The translation unit that holds the precompiled <torch/torch.h> (cmake/TorchPch.cmake).
